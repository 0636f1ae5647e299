#include <catch2/catch.hpp>

#include "skiff/build/dockerfile.hpp"
#include "skiff/util/error.hpp"

using skiff::build::Instruction;
using Strings = std::vector<std::string>;
namespace b = skiff::build;

namespace {

const auto kEnv =
    b::lookup_in({{"APP", "/srv/app"}, {"USER", "app"}, {"PORTS", "80 443/tcp"}, {"EMPTY", ""}, {"V", "1.2"}});

Instruction one(const std::string& text) {
  return b::parse_dockerfile("FROM scratch\n" + text, "Dockerfile").stages.at(0).instructions.at(0);
}

template <typename T>
T expanded(const std::string& text, const b::EnvLookup& env = kEnv) {
  auto ins = b::expand_instruction(one(text), env);
  REQUIRE(std::holds_alternative<T>(ins.body));
  return std::get<T>(ins.body);
}

}  // namespace

TEST_CASE("ENV and LABEL: quotes removed, variables from before the instruction") {
  auto env = expanded<b::EnvInstruction>("ENV A=$APP B=\"two words\" C=three\\ words D='$USER' E=${NOPE:-x}");
  REQUIRE(env.vars.size() == 5);
  CHECK(env.vars[0].value == "/srv/app");
  CHECK(env.vars[1].value == "two words");
  CHECK(env.vars[2].value == "three words");
  CHECK(env.vars[3].value == "$USER");
  CHECK(env.vars[4].value == "x");

  // ENV abc=bye def=$abc: def gets the abc from before the instruction.
  auto scope = b::lookup_in({{"abc", "hello"}});
  auto same = expanded<b::EnvInstruction>("ENV abc=bye def=$abc", scope);
  CHECK(same.vars[1].value == "hello");

  auto legacy = expanded<b::EnvInstruction>("ENV PATH \"/opt/bin:$APP\"");
  CHECK(legacy.vars.at(0).value == "/opt/bin:/srv/app");

  auto label = expanded<b::LabelInstruction>("LABEL \"org.version\"=$V desc=\"an \\\"app\\\"\"");
  CHECK(label.labels.at(0).key == "org.version");
  CHECK(label.labels.at(0).value == "1.2");
  CHECK(label.labels.at(1).value == "an \"app\"");
}

TEST_CASE("ARG: only the defaults are expanded") {
  auto arg = expanded<b::ArgInstruction>("ARG A=$V B C=\"x y\"");
  CHECK(arg.args.at(0).value == "1.2");
  CHECK_FALSE(arg.args.at(1).value);
  CHECK(arg.args.at(2).value == "x y");
}

TEST_CASE("COPY and ADD: sources, destination, --chown, --chmod, heredocs") {
  auto copy = expanded<b::CopyInstruction>(
      "COPY --from=build --chown=$USER:$USER --chmod=${MODE:-0644} \\$APP $APP/x.txt ${APP}/");
  CHECK(copy.chown == "app:app");
  CHECK(copy.chmod == "0644");
  CHECK(copy.from == "build");
  CHECK(copy.sources == Strings{"$APP", "/srv/app/x.txt"});
  CHECK(copy.dest == "/srv/app/");

  auto json = expanded<b::CopyInstruction>("COPY [\"$APP/x\", \"/y\"]");
  CHECK(json.sources == Strings{"/srv/app/x"});

  auto add = expanded<b::CopyInstruction>("ADD --checksum=sha256:$V https://x/$V.tgz /opt/");
  CHECK(add.checksum == "sha256:1.2");
  CHECK(add.sources == Strings{"https://x/1.2.tgz"});

  auto docs = expanded<b::CopyInstruction>("COPY <<A <<'B' /d/\nuser \"$USER\" in '$APP' \\$V\nA\nuser $USER\nB\n");
  CHECK(docs.heredocs.at(0).content == "user \"app\" in '/srv/app' $V\n");
  CHECK(docs.heredocs.at(1).content == "user $USER\n");

  CHECK_THROWS_WITH(b::expand_instruction(one("COPY \"a b /x"), kEnv),
                    "failed to process \"\\\"a\": unexpected end of statement while looking for "
                    "matching double-quote");
}

TEST_CASE("EXPOSE may split into more ports") {
  CHECK(expanded<b::ExposeInstruction>("EXPOSE $PORTS 53/udp").ports == Strings{"80", "443/tcp", "53/udp"});
  CHECK(expanded<b::ExposeInstruction>("EXPOSE \"$PORTS\"").ports == Strings{"80 443/tcp"});
}

TEST_CASE("WORKDIR, USER, VOLUME, STOPSIGNAL, FROM") {
  CHECK(expanded<b::WorkdirInstruction>("WORKDIR $APP/data").path == "/srv/app/data");
  CHECK(expanded<b::UserInstruction>("USER ${USER}:${GROUP:-staff}").user == "app:staff");
  CHECK(expanded<b::VolumeInstruction>("VOLUME [\"$APP\", \"/logs\"]").paths == Strings{"/srv/app", "/logs"});
  CHECK(expanded<b::StopSignalInstruction>("STOPSIGNAL ${SIG:-SIGTERM}").signal == "SIGTERM");

  auto df = b::parse_dockerfile("ARG TAG=3.19\nFROM --platform=$P alpine:${TAG}\n", "Dockerfile");
  Instruction from{.keyword = "FROM",
                   .body = b::FromInstruction{.base = df.stages[0].base, .platform = df.stages[0].platform}};
  auto meta = b::lookup_in({{"TAG", "3.19"}, {"P", "linux/arm64"}});
  auto f = std::get<b::FromInstruction>(b::expand_instruction(from, meta).body);
  CHECK(f.base == "alpine:3.19");
  CHECK(f.platform == "linux/arm64");
}

TEST_CASE("RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD are left to the shell") {
  CHECK(expanded<b::RunInstruction>("RUN echo $APP").command.args == Strings{"echo $APP"});
  CHECK(expanded<b::CmdInstruction>("CMD [\"$APP\"]").command.args == Strings{"$APP"});
  CHECK(expanded<b::EntrypointInstruction>("ENTRYPOINT $APP/run").command.args == Strings{"$APP/run"});
  CHECK(expanded<b::HealthcheckInstruction>("HEALTHCHECK CMD test -e $APP").test ==
        Strings{"CMD-SHELL", "test -e $APP"});
  CHECK(expanded<b::OnbuildInstruction>("ONBUILD WORKDIR $APP").expression == "WORKDIR $APP");
  auto heredoc = expanded<b::RunInstruction>("RUN <<EOF\necho $APP\nEOF\n");
  CHECK(heredoc.heredocs.at(0).content == "echo $APP\n");
}

TEST_CASE("the file's escape character applies") {
  auto df = b::parse_dockerfile("# escape=`\nFROM a\nENV P=c:\\$APP\\bin\n", "Dockerfile");
  auto ins = b::expand_instruction(df.stages[0].instructions.at(0), kEnv, df.escape);
  CHECK(std::get<b::EnvInstruction>(ins.body).vars.at(0).value == "c:\\/srv/app\\bin");
}

TEST_CASE("RUN --mount: defaults and every key") {
  auto bind = b::parse_run_mount("target=/src");
  CHECK(bind.type == b::MountType::kBind);
  CHECK(bind.readonly);
  CHECK(bind.target == "/src");

  auto cache = b::parse_run_mount(
      "type=cache,target=/root/.cache/"
      "go-build,id=gobuild,sharing=private,mode=0700,uid=1000,gid=1000,from=base,source=/c");
  CHECK(cache.type == b::MountType::kCache);
  CHECK_FALSE(cache.readonly);
  CHECK(cache.id == "gobuild");
  CHECK(cache.sharing == b::CacheSharing::kPrivate);
  CHECK(cache.mode == 0700u);
  CHECK(cache.uid == 1000u);
  CHECK(cache.gid == 1000u);
  CHECK(cache.from == "base");
  CHECK(cache.source == "/c");

  CHECK(b::parse_run_mount("type=bind,src=.,dst=/x,rw").readonly == false);
  CHECK(b::parse_run_mount("type=bind,source=.,destination=/x,readwrite=true").readonly == false);
  CHECK(b::parse_run_mount("type=cache,target=/x,ro").readonly);
  CHECK(b::parse_run_mount("type=cache,target=/x,readonly=1").readonly);
  CHECK(b::parse_run_mount("TYPE=Tmpfs,target=/t,size=64m").size == 64u << 20);
  CHECK(b::parse_run_mount("type=tmpfs,target=/t,size=1GiB").size == 1ull << 30);
  CHECK(b::parse_run_mount("type=tmpfs,target=/t,size=100").size == 100u);

  auto secret = b::parse_run_mount("type=secret,id=aws,target=/root/.aws/credentials,required,env=AWS");
  CHECK(secret.type == b::MountType::kSecret);
  CHECK(secret.required);
  CHECK(secret.readonly);
  CHECK(secret.env == "AWS");
  CHECK(b::parse_run_mount("type=ssh,required=false").type == b::MountType::kSsh);

  auto quoted = b::parse_run_mount("type=bind,\"source=a,b\",target=/x");
  CHECK(quoted.source == "a,b");
}

TEST_CASE("RUN --mount errors are docker's") {
  auto err = [](std::string_view spec) {
    try {
      b::parse_run_mount(spec);
    } catch (const skiff::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(err("type=nfs") == "unsupported mount type \"nfs\"");
  CHECK(err("type=cache,sharing=sometimes") == "unsupported sharing value \"sometimes\"");
  CHECK(err("target=/x,mode=0755") == "mode not allowed for \"bind\" type mounts");
  CHECK(err("type=tmpfs,target=/x,uid=1") == "uid not allowed for \"tmpfs\" type mounts");
  CHECK(err("type=cache,mode=9") == "invalid value 9 for mode");
  CHECK(err("type=cache,uid=x") == "invalid value x for uid");
  CHECK(err("target=/x,required") == "unexpected key 'required' for mount type 'bind'");
  CHECK(err("target=/x,size=1m") == "unexpected key 'size' for mount type 'bind'");
  CHECK(err("type=tmpfs,size=lots") == "invalid value for size: lots");
  CHECK(err("ro=maybe") == "invalid value for ro: maybe");
  CHECK(err("target=/x,colour=red") == "unexpected key 'colour' in 'colour=red'");
  CHECK(err("target=/x,bogus") == "invalid field 'bogus' must be a key=value pair");
  CHECK(err("type=secret,id=a,from=b") == "secret mount should not have a from");
  CHECK(err("type=secret,id=a,sharing=locked") == "secret mount should not define sharing");
  CHECK(err("type=secret") == "invalid secret mount. one of source, target required");
  CHECK(err("type=secret,id=a,source=b") == "both source and id can't be set");
  CHECK(err("type=bind,sharing=shared") == "invalid cache sharing set for bind mount");
  CHECK(err("from=$STAGE") == "'from' doesn't support variable expansion, define alias stage instead");
  CHECK(err("\"target=/x") == "failed to parse csv mounts: extraneous or missing \" in quoted-field");
  CHECK(err("tar\"get=/x") == "failed to parse csv mounts: bare \" in non-quoted-field");
}

TEST_CASE("RUN --mount values with variables are checked when expanded") {
  auto ins = one("RUN --mount=type=$T,target=$DIR,id=${ID:-c} --mount=type=cache,target=/x make");
  auto parsed = std::get<b::RunInstruction>(ins.body);
  REQUIRE(parsed.mounts.size() == 2);
  CHECK(parsed.mounts[0].target == "$DIR");

  auto env = b::lookup_in({{"T", "cache"}, {"DIR", "/root/.m2"}});
  auto run = std::get<b::RunInstruction>(b::expand_instruction(ins, env).body);
  REQUIRE(run.mounts.size() == 2);
  CHECK(run.mounts[0].type == b::MountType::kCache);
  CHECK(run.mounts[0].target == "/root/.m2");
  CHECK(run.mounts[0].id == "c");
  CHECK_FALSE(run.mounts[0].readonly);
  CHECK(run.mounts[1].target == "/x");

  auto bad = b::lookup_in({{"T", "nfs"}});
  CHECK_THROWS_WITH(b::expand_instruction(ins, bad), "unsupported mount type \"nfs\"");
}
