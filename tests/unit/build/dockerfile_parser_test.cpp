#include <catch2/catch.hpp>

#include "skiff/build/dockerfile.hpp"
#include "skiff/util/error.hpp"

using namespace std::chrono_literals;
using skiff::build::Dockerfile;
using skiff::build::Instruction;
using Strings = std::vector<std::string>;
namespace b = skiff::build;

namespace {

Dockerfile parse(std::string_view text) {
  return b::parse_dockerfile(text, "Dockerfile");
}

// The instructions of a one-stage Dockerfile "FROM scratch\n" + text.
std::vector<Instruction> stage(const std::string& text) {
  return parse("FROM scratch\n" + text).stages.at(0).instructions;
}

// The one instruction after "FROM scratch".
Instruction one(const std::string& text) {
  return stage(text).at(0);
}

template <typename T>
T body(const Instruction& i) {
  REQUIRE(std::holds_alternative<T>(i.body));
  return std::get<T>(i.body);
}

// The message of the Error parsing text throws.
std::string error(std::string_view text) {
  try {
    parse(text);
  } catch (const skiff::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("stages, names, platforms and meta args") {
  auto df = parse(R"DF(# leading comment
ARG BASE=alpine:3.19 OTHER
arg VERSION

FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
RUN go build

from $BASE as final
COPY --from=build /out /bin/app
FROM build
)DF");
  REQUIRE(df.meta_args.size() == 2);
  CHECK(df.meta_args[0].line == 2);
  auto meta = body<b::ArgInstruction>(df.meta_args[0]).args;
  REQUIRE(meta.size() == 2);
  CHECK(meta[0].name == "BASE");
  CHECK(meta[0].value == "alpine:3.19");
  CHECK(meta[1].name == "OTHER");
  CHECK_FALSE(meta[1].value);
  CHECK(df.meta_args[1].keyword == "ARG");

  REQUIRE(df.stages.size() == 3);
  CHECK(df.stages[0].base == "golang:1.22");
  CHECK(df.stages[0].name == "build");
  CHECK(df.stages[0].platform == "$BUILDPLATFORM");
  CHECK(df.stages[0].line == 5);
  CHECK(df.stages[0].text == "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build");
  REQUIRE(df.stages[0].instructions.size() == 1);
  CHECK(df.stages[0].instructions[0].line == 6);
  CHECK(df.stages[1].base == "$BASE");
  CHECK(df.stages[1].name == "final");
  CHECK(df.stages[1].instructions.at(0).keyword == "COPY");
  CHECK(df.stages[2].base == "build");
  CHECK(df.stages[2].name.empty());
  CHECK(df.stages[2].instructions.empty());
  CHECK(df.escape == '\\');
  CHECK(df.syntax.empty());
  CHECK(df.warnings.empty());
  CHECK(df.file_name == "Dockerfile");
}

TEST_CASE("errors name the file and the line, as docker does") {
  CHECK(error("FROM a\nRUN x\n\n\n\n\nCOPPY a b\n") == "Dockerfile:7: unknown instruction: COPPY");
  CHECK(error("FROM a\n\nFROM\n") == "Dockerfile:3: FROM requires at least one argument");
  CHECK(error("FROM a b\n") == "Dockerfile:1: FROM requires either one or three arguments");
  CHECK(error("FROM a AS b c\n") == "Dockerfile:1: FROM requires either one or three arguments");
  CHECK(error("FROM a AS 1st\n") ==
        "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a number or "
        "contain symbols");
  CHECK(error("FROM a AS b!\n") ==
        "Dockerfile:1: invalid name for build stage: \"b!\", name can't "
        "start with a number or contain symbols");
  CHECK(error("FROM a\nRUN x\nSHELL \\\n\tpowershell -command\n") ==
        "Dockerfile:3: SHELL requires the arguments to be in JSON form");
  CHECK(error("FROM a\nRUN x\n\nSHELL powershell -command\n") ==
        "Dockerfile:4: SHELL requires the arguments to be in JSON form");
  CHECK(error("FROM a\nSHELL []\n") == "Dockerfile:2: SHELL requires at least one argument");
  CHECK(error("ARG X\nRUN x\n") == "Dockerfile:2: no FROM before RUN");
  CHECK(error("# hi\nlabel a=b\n") == "Dockerfile:2: no FROM before LABEL");
  CHECK(error("") == "Dockerfile: no build stage");
  CHECK(error("# only\n\n   # comments\n") == "Dockerfile: no build stage");
  CHECK(error("ARG A=1\n") == "Dockerfile: no build stage");
  CHECK(error("FROM a AS x\nFROM b AS X\n") ==
        "Dockerfile:2: duplicate stage name \"x\", stage names should be unique");
  CHECK(error("FROM a\nCMD [\"echo\", 1]\n") ==
        "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only");
  CHECK(error("FROM a\nRUN\n") == "Dockerfile:2: RUN requires at least one argument");
  CHECK(error("FROM a\nUSER\n") == "Dockerfile:2: USER requires exactly one argument");
  CHECK(error("FROM a\nWORKDIR\n") == "Dockerfile:2: WORKDIR requires exactly one argument");
  CHECK(error("FROM a\nSTOPSIGNAL\n") == "Dockerfile:2: STOPSIGNAL requires exactly one argument");
  CHECK(error("FROM a\nEXPOSE\n") == "Dockerfile:2: EXPOSE requires at least one argument");
  CHECK(error("FROM a\nVOLUME\n") == "Dockerfile:2: VOLUME requires at least one argument");
  CHECK(error("FROM a\nVOLUME [\"/a\", \" \"]\n") == "Dockerfile:2: VOLUME specified can not be an empty string");
  CHECK(error("FROM a\nARG\n") == "Dockerfile:2: ARG requires at least one argument");
  CHECK(error("FROM a\nARG =x\n") == "Dockerfile:2: ARG names can not be blank");
  CHECK(error("FROM a\nMAINTAINER\n") == "Dockerfile:2: MAINTAINER requires exactly one argument");
}

TEST_CASE("an unknown instruction gets a suggestion as its hint") {
  try {
    parse("FROM a\ncopyy a b\n");
    FAIL("no error");
  } catch (const skiff::Error& e) {
    CHECK(std::string(e.what()) == "Dockerfile:2: unknown instruction: copyy");
    CHECK(e.hint() == "did you mean copy?");
  }
  try {
    parse("FROM a\nFROBNICATE\n");
    FAIL("no error");
  } catch (const skiff::Error& e) {
    CHECK(e.hint().empty());
  }
}

TEST_CASE("parser directives") {
  auto df = parse("# syntax=docker/dockerfile:1.7\n#check=skip=all\n  # ESCAPE = `\nFROM a\n");
  CHECK(df.syntax == "docker/dockerfile:1.7");
  CHECK(df.escape == '`');
  CHECK(df.stages.at(0).line == 4);

  // After a comment, an empty line or an instruction they are comments.
  CHECK(parse("# hello\n# escape=`\nFROM a\n").escape == '\\');
  CHECK(parse("\n# escape=`\nFROM a\n").escape == '\\');
  CHECK(parse("FROM a\n# escape=`\n").escape == '\\');
  CHECK(parse("# unknown=x\n# escape=`\nFROM a\n").escape == '\\');

  CHECK(error("# escape=`\n# escape=\\\nFROM a\n") == "Dockerfile:2: only one escape parser directive can be used");
  CHECK(error("# escape=x\nFROM a\n") == "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
}

TEST_CASE("escape=` for Windows paths") {
  auto df = parse(R"DF(# escape=`

FROM mcr.microsoft.com/windows/servercore
COPY testfile.txt c:\
RUN dir c:\ `
    && echo done
WORKDIR c:\Users\$USERNAME
ENV A=c:\temp B="say `"hi`""
)DF");
  CHECK(df.escape == '`');
  auto& ins = df.stages.at(0).instructions;
  REQUIRE(ins.size() == 4);
  CHECK(body<b::CopyInstruction>(ins[0]).dest == "c:\\");
  auto run = body<b::RunInstruction>(ins[1]);
  CHECK(run.command.args == Strings{"dir c:\\     && echo done"});
  CHECK(ins[2].line == 7);
  auto env = b::lookup_in({{"USERNAME", "app"}});
  CHECK(body<b::WorkdirInstruction>(b::expand_instruction(ins[2], env, df.escape)).path == "c:\\Users\\app");
  auto vars = body<b::EnvInstruction>(b::expand_instruction(ins[3], env, df.escape)).vars;
  CHECK(vars.at(0).value == "c:\\temp");
  CHECK(vars.at(1).value == "say \"hi\"");
}

TEST_CASE("continuation lines") {
  auto df = parse(
      "FROM alpine\n"
      "RUN apk add \\\n"
      "    curl \\\n"
      "# a comment inside\n"
      "  # an indented one\n"
      "    git \\\n"
      "\n"
      "    make\n"
      "   LABEL a=b\n");
  auto& ins = df.stages.at(0).instructions;
  REQUIRE(ins.size() == 2);
  CHECK(body<b::RunInstruction>(ins[0]).command.args == Strings{"apk add     curl     git     make"});
  CHECK(ins[0].line == 2);
  CHECK(ins[0].text == "RUN apk add     curl     git     make");
  CHECK(ins[1].line == 9);
  CHECK(df.warnings == Strings{"Dockerfile:2: empty continuation line (future docker releases will refuse it)"});

  // An escaped escape ends the line; blanks after the escape do not matter.
  auto two = stage("RUN echo a\\\\\nRUN echo b \\ \t\n c\n");
  REQUIRE(two.size() == 2);
  CHECK(body<b::RunInstruction>(two[0]).command.args == Strings{"echo a\\\\"});
  CHECK(body<b::RunInstruction>(two[1]).command.args == Strings{"echo b  c"});

  // A continuation at the end of the file, CRLF line ends, a lone escape.
  CHECK(body<b::RunInstruction>(one("RUN echo \\")).command.args == Strings{"echo"});
  CHECK(body<b::RunInstruction>(one("RUN echo \\\r\n  hi\r\n")).command.args == Strings{"echo   hi"});
  CHECK(body<b::RunInstruction>(one("\\\nRUN \\\nx")).command.args == Strings{"x"});
  CHECK(body<b::EnvInstruction>(one("ENV \\\n A=1 \\\n B=2")).vars.size() == 2);
}

TEST_CASE("a byte-order mark, leading white space and case") {
  auto df = parse("\xEF\xBB\xBF  from a\n\t  run   echo hi  \n");
  auto run = df.stages.at(0).instructions.at(0);
  CHECK(run.keyword == "RUN");
  CHECK(run.text == "run   echo hi");
  CHECK(body<b::RunInstruction>(run).command.args == Strings{"echo hi"});
}

TEST_CASE("RUN: shell form, exec form, flags") {
  auto shell = body<b::RunInstruction>(one("RUN echo \"$HOME\" && ls"));
  CHECK(shell.command.args == Strings{"echo \"$HOME\" && ls"});
  CHECK_FALSE(shell.command.json);
  CHECK(shell.network == "default");
  CHECK(shell.security == "sandbox");

  auto exec = body<b::RunInstruction>(one("RUN [\"/bin/echo\", \"a b\", \"\\u00e9\"]"));
  CHECK(exec.command.json);
  CHECK(exec.command.args == Strings{"/bin/echo", "a b", "é"});

  // Not valid JSON: shell form, as docker does.
  for (auto text : {"[ \"echo\", 'hi' ]", "[\"a\" \"b\"]", "[\"a\"] && b", "[", "{\"a\": 1}"}) {
    auto run = body<b::RunInstruction>(one(std::string("RUN ") + text));
    CHECK_FALSE(run.command.json);
    CHECK(run.command.args == Strings{text});
  }

  auto ins =
      one("RUN --mount=type=cache,target=/root/.cache,sharing=locked \\\n"
          "    --mount=\"type=secret,id=npm,dst=/etc/npmrc\" --network=none --security=insecure \\\n"
          "    pip install -r requirements.txt");
  CHECK(ins.flags == Strings{"--mount=type=cache,target=/root/.cache,sharing=locked",
                             "--mount=type=secret,id=npm,dst=/etc/npmrc", "--network=none", "--security=insecure"});
  auto run = body<b::RunInstruction>(ins);
  CHECK(run.command.args == Strings{"pip install -r requirements.txt"});
  CHECK(run.network == "none");
  CHECK(run.security == "insecure");
  REQUIRE(run.mounts.size() == 2);
  CHECK(run.mounts[0].type == b::MountType::kCache);
  CHECK(run.mounts[0].target == "/root/.cache");
  CHECK(run.mounts[0].sharing == b::CacheSharing::kLocked);
  CHECK_FALSE(run.mounts[0].readonly);
  CHECK(run.mounts[1].type == b::MountType::kSecret);
  CHECK(run.mounts[1].id == "npm");
  CHECK(run.mounts[1].target == "/etc/npmrc");
  CHECK(run.mounts[1].readonly);

  // "--" ends the flags.
  CHECK(body<b::RunInstruction>(one("RUN -- --version")).command.args == Strings{"--version"});

  CHECK(error("FROM a\nRUN --network=bridge x\n") == "Dockerfile:2: invalid network mode \"bridge\"");
  CHECK(error("FROM a\nRUN --security=lax x\n") == "Dockerfile:2: security \"lax\" is not valid");
  CHECK(error("FROM a\nRUN --mount=type=nfs,target=/x x\n") == "Dockerfile:2: unsupported mount type \"nfs\"");
  CHECK(error("FROM a\nRUN --network=none --network=host x\n") == "Dockerfile:2: duplicate flag specified: --network");
  CHECK(error("FROM a\nRUN --network x\n") == "Dockerfile:2: missing a value on flag: --network");
  CHECK(error("FROM a\nCMD --version\n") == "Dockerfile:2: unknown flag: --version");
}

TEST_CASE("CMD, ENTRYPOINT, SHELL") {
  auto cmd = body<b::CmdInstruction>(one("CMD [\"nginx\", \"-g\", \"daemon off;\"]"));
  CHECK(cmd.command.json);
  CHECK(cmd.command.args == Strings{"nginx", "-g", "daemon off;"});
  CHECK(body<b::CmdInstruction>(one("CMD nginx -g 'daemon off;'")).command.args == Strings{"nginx -g 'daemon off;'"});
  CHECK(body<b::CmdInstruction>(one("CMD")).command.args.empty());
  auto ep = body<b::EntrypointInstruction>(one("ENTRYPOINT []"));
  CHECK(ep.command.json);
  CHECK(ep.command.args.empty());
  CHECK(body<b::ShellInstruction>(one("SHELL [\"powershell\", \"-command\"]")).shell ==
        Strings{"powershell", "-command"});
}

TEST_CASE("COPY and ADD") {
  auto copy =
      body<b::CopyInstruction>(one("COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md "
                                   "--exclude=docs/ a.txt \"b c\" /dest/"));
  CHECK_FALSE(copy.add);
  CHECK(copy.from == "build");
  CHECK(copy.chown == "app:app");
  CHECK(copy.chmod == "0755");
  CHECK(copy.link);
  CHECK(copy.parents);
  CHECK(copy.excludes == Strings{"*.md", "docs/"});
  CHECK(copy.sources == Strings{"a.txt", "\"b", "c\""});  // words are split later, by expansion
  CHECK(copy.dest == "/dest/");
  CHECK(copy.heredocs.empty());

  auto json = body<b::CopyInstruction>(one("COPY [\"a b.txt\", \"c\", \"/x y/\"]"));
  CHECK(json.sources == Strings{"a b.txt", "c"});
  CHECK(json.dest == "/x y/");

  CHECK_FALSE(body<b::CopyInstruction>(one("COPY --link=false a b")).link);

  auto add =
      body<b::CopyInstruction>(one("ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --chown=1:2 "
                                   "https://example.com/a.tgz git@github.com:x/y.git /opt/"));
  CHECK(add.add);
  CHECK(add.checksum == "sha256:abc");
  CHECK(add.keep_git_dir == true);
  CHECK(add.unpack == false);
  CHECK(add.sources == Strings{"https://example.com/a.tgz", "git@github.com:x/y.git"});
  CHECK_FALSE(body<b::CopyInstruction>(one("ADD a b")).unpack.has_value());

  CHECK(error("FROM a\nCOPY a\n") ==
        "Dockerfile:2: COPY requires at least two arguments, but only "
        "one was provided. Destination could not be determined");
  CHECK(error("FROM a\nADD\n") ==
        "Dockerfile:2: ADD requires at least two arguments, but only one "
        "was provided. Destination could not be determined");
  CHECK(error("FROM a\nADD --from=x a b\n") == "Dockerfile:2: unknown flag: --from");
  CHECK(error("FROM a\nCOPY --chmodd=7 a b\n") == "Dockerfile:2: unknown flag: --chmodd");
  CHECK(error("FROM a\nCOPY --link=maybe a b\n") ==
        "Dockerfile:2: expecting boolean value for flag --link, not: maybe");
  CHECK(error("FROM a\nCOPY --link= a b\n") == "Dockerfile:2: missing a value on flag: --link");
  CHECK(error("FROM a\nCOPY --from a b\n") == "Dockerfile:2: missing a value on flag: --from");
}

TEST_CASE("ENV and LABEL, both forms") {
  auto env = body<b::EnvInstruction>(one("ENV A=1 B=\"two words\" C=three\\ words D= E=''"));
  REQUIRE(env.vars.size() == 5);
  CHECK(env.vars[0].key == "A");
  CHECK(env.vars[0].value == "1");
  CHECK(env.vars[1].value == "\"two words\"");  // quotes go at expansion
  CHECK(env.vars[2].value == "three\\ words");
  CHECK(env.vars[3].value == "");
  CHECK(env.vars[4].value == "''");

  auto legacy = body<b::EnvInstruction>(one("ENV PATH   /usr/local/bin:$PATH  extra"));
  REQUIRE(legacy.vars.size() == 1);
  CHECK(legacy.vars[0].key == "PATH");
  CHECK(legacy.vars[0].value == "/usr/local/bin:$PATH  extra");

  auto label = body<b::LabelInstruction>(
      one("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 description=\"multi \\\n  line\""));
  REQUIRE(label.labels.size() == 3);
  CHECK(label.labels[0].key == "\"com.example.vendor\"");
  CHECK(label.labels[0].value == "\"ACME Inc\"");
  CHECK(label.labels[2].value == "\"multi   line\"");

  CHECK(error("FROM a\nENV\n") == "Dockerfile:2: ENV requires at least one argument");
  CHECK(error("FROM a\nENV A\n") == "Dockerfile:2: ENV must have two arguments");
  CHECK(error("FROM a\nENV A=1 B\n") ==
        "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value");
  CHECK(error("FROM a\nENV =1\n") == "Dockerfile:2: ENV names can not be blank");
  CHECK(error("FROM a\nLABEL x\n") == "Dockerfile:2: LABEL must have two arguments");
}

TEST_CASE("ARG, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, MAINTAINER") {
  auto arg = body<b::ArgInstruction>(one("ARG A B=2 C=\"x y\" D="));
  REQUIRE(arg.args.size() == 4);
  CHECK(arg.args[0].name == "A");
  CHECK_FALSE(arg.args[0].value);
  CHECK(arg.args[1].value == "2");
  CHECK(arg.args[2].value == "\"x y\"");
  CHECK(arg.args[3].value == "");

  CHECK(body<b::WorkdirInstruction>(one("WORKDIR /srv/my app")).path == "/srv/my app");
  CHECK(body<b::UserInstruction>(one("USER app:staff")).user == "app:staff");
  CHECK(body<b::ExposeInstruction>(one("EXPOSE 80/tcp 53/udp\t8000-8010")).ports ==
        Strings{"80/tcp", "53/udp", "8000-8010"});
  CHECK(body<b::VolumeInstruction>(one("VOLUME [\"/data\", \"/var/log\"]")).paths == Strings{"/data", "/var/log"});
  CHECK(body<b::VolumeInstruction>(one("VOLUME /data /var/log")).paths == Strings{"/data", "/var/log"});
  CHECK(body<b::StopSignalInstruction>(one("STOPSIGNAL SIGQUIT")).signal == "SIGQUIT");

  auto df = parse("FROM a\nMAINTAINER Jane <jane@example.com>\n");
  CHECK(body<b::MaintainerInstruction>(df.stages[0].instructions.at(0)).maintainer == "Jane <jane@example.com>");
  CHECK(df.warnings == Strings{"Dockerfile:2: MAINTAINER is deprecated, use LABEL instead"});
}

TEST_CASE("HEALTHCHECK") {
  CHECK(body<b::HealthcheckInstruction>(one("HEALTHCHECK NONE")).test == Strings{"NONE"});
  CHECK(body<b::HealthcheckInstruction>(one("healthcheck none")).test == Strings{"NONE"});
  auto hc = body<b::HealthcheckInstruction>(
      one("HEALTHCHECK --interval=30s --timeout=3s --start-period=1m30s --start-interval=500ms "
          "--retries=3 \\\n  CMD curl -f http://localhost/ || exit 1"));
  CHECK(hc.test == Strings{"CMD-SHELL", "curl -f http://localhost/ || exit 1"});
  CHECK(hc.interval == 30s);
  CHECK(hc.timeout == 3s);
  CHECK(hc.start_period == 90s);
  CHECK(hc.start_interval == 500ms);
  CHECK(hc.retries == 3);
  auto exec = body<b::HealthcheckInstruction>(one("HEALTHCHECK --interval=1.5h CMD [\"/ok\", \"-q\"]"));
  CHECK(exec.test == Strings{"CMD", "/ok", "-q"});
  CHECK(exec.interval == 90min);
  CHECK(exec.timeout == 0s);
  CHECK(body<b::HealthcheckInstruction>(one("HEALTHCHECK --timeout=0 CMD true")).timeout == 0s);

  CHECK(error("FROM a\nHEALTHCHECK\n") == "Dockerfile:2: HEALTHCHECK requires at least one argument");
  CHECK(error("FROM a\nHEALTHCHECK NONE x\n") == "Dockerfile:2: HEALTHCHECK NONE takes no arguments");
  CHECK(error("FROM a\nHEALTHCHECK RUN x\n") == "Dockerfile:2: Unknown type \"RUN\" in HEALTHCHECK (try CMD)");
  CHECK(error("FROM a\nHEALTHCHECK CMD\n") == "Dockerfile:2: Missing command after HEALTHCHECK CMD");
  CHECK(error("FROM a\nHEALTHCHECK --retries=-1 CMD x\n") == "Dockerfile:2: --retries cannot be negative (-1)");
  CHECK(error("FROM a\nHEALTHCHECK --retries=x CMD x\n") == "Dockerfile:2: invalid value \"x\" for --retries");
  CHECK(error("FROM a\nHEALTHCHECK --interval=10us CMD x\n") ==
        "Dockerfile:2: Interval \"interval\" cannot be less than 1ms");
  CHECK(error("FROM a\nHEALTHCHECK --timeout=5 CMD x\n") == "Dockerfile:2: time: invalid duration \"5\"");
  CHECK(error("FROM a\nHEALTHCHECK --timeout=5x CMD x\n") == "Dockerfile:2: time: invalid duration \"5x\"");
  CHECK(error("FROM a\nHEALTHCHECK --every=5s CMD x\n") == "Dockerfile:2: unknown flag: --every");
}

TEST_CASE("ONBUILD parses its trigger") {
  auto ins = one("ONBUILD RUN --network=none make install");
  CHECK(ins.keyword == "ONBUILD");
  auto ob = body<b::OnbuildInstruction>(ins);
  CHECK(ob.expression == "RUN --network=none make install");
  REQUIRE(ob.trigger);
  CHECK(ob.trigger->keyword == "RUN");
  CHECK(ob.trigger->flags == Strings{"--network=none"});
  CHECK(body<b::RunInstruction>(*ob.trigger).command.args == Strings{"make install"});

  auto copy = body<b::OnbuildInstruction>(one("onbuild copy . /app"));
  CHECK(copy.expression == "copy . /app");
  CHECK(body<b::CopyInstruction>(*copy.trigger).dest == "/app");

  auto doc = stage("ONBUILD RUN <<EOF\necho hi\nEOF\nUSER app\n");
  REQUIRE(doc.size() == 2);
  auto heredoc = body<b::OnbuildInstruction>(doc[0]);
  CHECK(heredoc.expression == "RUN <<EOF\necho hi\nEOF");
  CHECK(body<b::RunInstruction>(*heredoc.trigger).heredocs.at(0).content == "echo hi\n");
  CHECK(doc[1].line == 5);

  CHECK(error("FROM a\nONBUILD\n") == "Dockerfile:2: ONBUILD requires at least one argument");
  CHECK(error("FROM a\nONBUILD ONBUILD RUN x\n") ==
        "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  CHECK(error("FROM a\nONBUILD from b\n") == "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger");
  CHECK(error("FROM a\nONBUILD MAINTAINER me\n") == "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger");
  CHECK(error("FROM a\nONBUILD RUNN x\n") == "Dockerfile:2: unknown instruction: RUNN");
  CHECK(error("FROM a\nONBUILD COPY a\n") ==
        "Dockerfile:2: COPY requires at least two arguments, "
        "but only one was provided. Destination could not be "
        "determined");
}

TEST_CASE("heredocs on RUN") {
  auto ins = stage(
      "RUN <<EOF\n"
      "set -e\n"
      "# not a comment for the parser\n"
      "\n"
      "echo \"$HOME\" \\\n"
      "EOF\n"
      "RUN true\n");
  REQUIRE(ins.size() == 2);
  auto run = body<b::RunInstruction>(ins[0]);
  CHECK(run.command.args == Strings{"<<EOF"});
  CHECK(ins[0].text == "RUN <<EOF");
  REQUIRE(run.heredocs.size() == 1);
  CHECK(run.heredocs[0].name == "EOF");
  CHECK(run.heredocs[0].content == "set -e\n# not a comment for the parser\n\necho \"$HOME\" \\\n");
  CHECK(run.heredocs[0].expand);
  CHECK_FALSE(run.heredocs[0].chomp);
  CHECK(run.heredocs[0].fd == 0);
  CHECK(ins[1].line == 8);

  auto chomp = body<b::RunInstruction>(one("RUN <<-EOT bash\n\tif true; then\n\t\techo x\n\tfi\n\tEOT\n"));
  CHECK(chomp.command.args == Strings{"<<-EOT bash"});
  CHECK(chomp.heredocs.at(0).chomp);
  CHECK(chomp.heredocs.at(0).content == "if true; then\necho x\nfi\n");

  auto two = body<b::RunInstruction>(
      one("RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2\n"));
  REQUIRE(two.heredocs.size() == 2);
  CHECK(two.heredocs[0].name == "FILE1");
  CHECK(two.heredocs[0].content == "I am\nfirst\n");
  CHECK(two.heredocs[1].name == "FILE2");
  CHECK(two.heredocs[1].content == "I am\nsecond\n");

  auto adjacent = body<b::RunInstruction>(one("RUN <<A <<B\na\nA\nb\nB\n"));
  CHECK(adjacent.heredocs.size() == 2);

  auto fd = body<b::RunInstruction>(one("RUN 3<<EOF cat /dev/fd/3\nx\nEOF\n"));
  CHECK(fd.heredocs.at(0).fd == 3);

  auto spaced = body<b::RunInstruction>(one("RUN cat <<  EOF  > /out\nhi\nEOF\n"));
  CHECK(spaced.heredocs.at(0).name == "EOF");
  CHECK(spaced.heredocs.at(0).content == "hi\n");

  auto empty = body<b::RunInstruction>(one("RUN <<EOF\nEOF\n"));
  CHECK(empty.heredocs.at(0).content.empty());

  auto crlf = body<b::RunInstruction>(one("RUN <<EOF\r\necho hi\r\nEOF\r\n"));
  CHECK(crlf.heredocs.at(0).content == "echo hi\r\n");

  // The last line of the file needs no newline, delimiter or not.
  auto last = parse("FROM a\nRUN <<EOF\nhi\nEOF");
  CHECK(body<b::RunInstruction>(last.stages[0].instructions.at(0)).heredocs.at(0).content == "hi\n");

  auto mount = body<b::RunInstruction>(one("RUN --mount=type=cache,target=/c <<MOUNT\necho hello\nMOUNT\n"));
  CHECK(mount.heredocs.at(0).content == "echo hello\n");
  CHECK(mount.mounts.size() == 1);
}

TEST_CASE("quoted heredoc delimiters turn expansion off") {
  struct Case {
    const char* line;
    const char* name;
    bool expand;
  };
  const Case cases[] = {
      {"<<\"EOF\"", "EOF", false},       {"<<'EOF'", "EOF", false},  {"<<-'EOF'", "EOF", false},
      {"<<EO\"F\"", "EOF", false},       {"<<eo\\'f", "eo'f", true}, {"<<'e'o\\'f", "eo'f", false},
      {"<<'one two'", "one two", false}, {"<<$EOF", "$EOF", true},
  };
  for (const auto& c : cases) {
    INFO(c.line);
    std::string text = std::string("RUN ") + c.line + "\nbody\n" + c.name + "\n";
    auto run = body<b::RunInstruction>(one(text));
    REQUIRE(run.heredocs.size() == 1);
    CHECK(run.heredocs[0].name == c.name);
    CHECK(run.heredocs[0].expand == c.expand);
    CHECK(run.heredocs[0].content == "body\n");
  }
}

TEST_CASE("what is not a heredoc") {
  // Exec form, quoted, or an instruction that takes none: the next line is
  // an instruction of its own.
  CHECK(stage("RUN [\"cat\", \"<<EOF\"]\nUSER x\n").size() == 2);
  CHECK(stage("RUN echo \"<<EOF\"\nUSER x\n").size() == 2);
  CHECK(stage("RUN echo '<<EOF'\nUSER x\n").size() == 2);
  CHECK(stage("RUN cat <<<word\nUSER x\n").size() == 2);
  CHECK(error("FROM a\nUSER <<EOF\nEOF\n") == "Dockerfile:3: unknown instruction: EOF");
  CHECK(stage("RUN echo \"unclosed <<EOF\nUSER x\n").size() == 2);
}

TEST_CASE("heredocs on COPY and ADD") {
  auto copy = body<b::CopyInstruction>(one("COPY <<EOF /etc/motd\nhello \"$USER\"\nEOF\n"));
  CHECK(copy.sources.empty());
  CHECK(copy.dest == "/etc/motd");
  REQUIRE(copy.heredocs.size() == 1);
  CHECK(copy.heredocs[0].name == "EOF");
  CHECK(copy.heredocs[0].content == "hello \"$USER\"\n");

  auto two = body<b::CopyInstruction>(one("COPY --chmod=755 <<A <<-'B' /dir/\na: $X\nA\n\tb: $X\n\tB\n"));
  REQUIRE(two.heredocs.size() == 2);
  CHECK(two.heredocs[0].name == "A");
  CHECK(two.heredocs[0].content == "a: $X\n");
  CHECK(two.heredocs[0].expand);
  CHECK(two.heredocs[1].name == "B");
  CHECK(two.heredocs[1].content == "b: $X\n");
  CHECK_FALSE(two.heredocs[1].expand);
  CHECK(two.heredocs[1].chomp);
  CHECK(two.dest == "/dir/");

  auto mixed = body<b::CopyInstruction>(one("COPY <<EOF foo.txt /bar\ninline\nEOF\n"));
  CHECK(mixed.sources == Strings{"foo.txt"});
  CHECK(mixed.heredocs.at(0).content == "inline\n");

  CHECK(body<b::CopyInstruction>(one("ADD <<EOF /x\ny\nEOF\n")).heredocs.size() == 1);
  CHECK(error("FROM a\nCOPY /foo <<EOF\nEOF\n") == "Dockerfile:2: COPY cannot accept a heredoc as a destination");
}

TEST_CASE("an unterminated heredoc is an error at its instruction") {
  CHECK(error("FROM a\nRUN x\n\n\n\n\n\n\n\n\n\nRUN <<EOF\necho\nEOF \n") == "Dockerfile:12: unterminated heredoc EOF");
  CHECK(error("FROM a\nRUN <<A <<B\na\nA\n") == "Dockerfile:2: unterminated heredoc B");
  CHECK(error("FROM a\nRUN <<-EOF\n  EOF\n") == "Dockerfile:2: unterminated heredoc EOF");
}

// Found by tests/fuzz (fuzz_dockerfile): std::stod's invalid_argument for
// "--interval=.." escaped the parser instead of an Error.
TEST_CASE("a healthcheck duration of dots or too many digits is an Error") {
  CHECK_THROWS_WITH(skiff::build::parse_dockerfile("FROM a\nHEALTHCHECK --interval=..s CMD true\n", "Dockerfile"),
                    Catch::Contains("time: invalid duration \"..s\""));
  CHECK_THROWS_AS(skiff::build::parse_dockerfile(
                      "FROM a\nHEALTHCHECK --timeout=" + std::string(400, '9') + "s CMD true\n", "Dockerfile"),
                  skiff::Error);
}
