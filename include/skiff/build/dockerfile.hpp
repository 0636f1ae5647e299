// A Dockerfile as plain data: stages of typed instructions, parsed with
// docker's (BuildKit's) rules and touching nothing on the system. Words are
// kept as written (quotes, $variables); expand_instruction() resolves them
// per build step, as BuildKit does when it dispatches the instruction.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "skiff/build/shell_words.hpp"

namespace skiff::build {

// A here-document: RUN <<EOF, COPY <<EOF /dest.
struct Heredoc {
  std::string name;     // the delimiter, quotes removed: <<"EOF" -> EOF
  std::string content;  // the lines up to the delimiter, each with its newline
  bool expand = true;   // false when any part of the delimiter was quoted
  bool chomp = false;   // <<-EOF: leading tabs were stripped from content
  int fd = 0;           // 3<<EOF -> 3; 0 when none was written
};

// The command of RUN, CMD, ENTRYPOINT: exec form or shell form.
struct CommandLine {
  std::vector<std::string> args;  // exec form: the JSON array; shell form: one string
  bool json = false;              // exec form: run args as they are, without the shell
};

enum class MountType { kBind, kCache, kTmpfs, kSecret, kSsh };
enum class CacheSharing { kShared, kPrivate, kLocked };

// RUN --mount=type=cache,target=/root/.cache,id=x,sharing=locked ...
struct RunMount {
  MountType type = MountType::kBind;
  std::string target;                      // target, dst, destination
  std::string source;                      // source, src
  std::string from;                        // stage or image the source is taken from (bind, cache)
  std::string id;                          // cache id, secret id
  bool readonly = true;                    // docker's default: read-only except cache and tmpfs
  std::optional<uint32_t> mode, uid, gid;  // cache, secret, ssh
  std::optional<CacheSharing> sharing;     // cache only; docker's default is shared
  bool required = false;                   // secret, ssh
  std::optional<uint64_t> size;            // tmpfs size in bytes
  std::optional<std::string> env;          // secret exposed as this variable
};

struct FromInstruction {
  std::string base;      // image reference, stage name or scratch, as written ($ARGs unexpanded)
  std::string name;      // AS name, lower-cased; empty without
  std::string platform;  // --platform, as written; empty without
};

struct RunInstruction {
  CommandLine command;               // with heredocs, args[0] is the line: "<<EOF", "python3 <<EOF"
  std::vector<Heredoc> heredocs;     // in the order of the line
  std::vector<RunMount> mounts;      // --mount flags, values as written
  std::string network = "default";   // --network: default, none, host
  std::string security = "sandbox";  // --security: sandbox, insecure
};

struct CmdInstruction {
  CommandLine command;
};

struct EntrypointInstruction {
  CommandLine command;  // exec form with no args: ENTRYPOINT [] clears it
};

struct ShellInstruction {
  std::vector<std::string> shell;
};

// COPY and ADD.
struct CopyInstruction {
  bool add = false;                  // ADD: URLs, git, local archives unpacked
  std::vector<std::string> sources;  // paths (ADD: URLs too), as written
  std::vector<Heredoc> heredocs;     // inline files among the sources: COPY <<EOF /dest
  std::string dest;
  std::string from;  // --from: stage name, index or image (COPY only)
  std::string chown;
  std::string chmod;
  bool link = false;
  bool parents = false;  // COPY only
  std::vector<std::string> excludes;
  std::string checksum;              // ADD only
  std::optional<bool> keep_git_dir;  // ADD only
  std::optional<bool> unpack;        // ADD only
};

struct KeyValue {
  std::string key;
  std::string value;
};

struct EnvInstruction {
  std::vector<KeyValue> vars;
};

struct LabelInstruction {
  std::vector<KeyValue> labels;
};

struct ArgDefinition {
  std::string name;
  std::optional<std::string> value;  // the default; nullopt for a bare ARG name
};

struct ArgInstruction {
  std::vector<ArgDefinition> args;
};

struct WorkdirInstruction {
  std::string path;
};

struct UserInstruction {
  std::string user;
};

struct ExposeInstruction {
  std::vector<std::string> ports;  // "80", "53/udp", "8000-8010", "$PORT"
};

struct VolumeInstruction {
  std::vector<std::string> paths;
};

struct StopSignalInstruction {
  std::string signal;
};

// The image config's Healthcheck.
struct HealthcheckInstruction {
  std::vector<std::string> test;  // {"NONE"}, {"CMD", args...} or {"CMD-SHELL", text}
  std::chrono::nanoseconds interval{0}, timeout{0}, start_period{0}, start_interval{0};
  int retries = 0;
};

struct MaintainerInstruction {
  std::string maintainer;
};

struct Instruction;

struct OnbuildInstruction {
  std::string expression;                      // what goes into the image config's OnBuild
  std::shared_ptr<const Instruction> trigger;  // the same, parsed
};

using InstructionBody =
    std::variant<FromInstruction, RunInstruction, CmdInstruction, EntrypointInstruction, ShellInstruction,
                 CopyInstruction, EnvInstruction, LabelInstruction, ArgInstruction, WorkdirInstruction, UserInstruction,
                 ExposeInstruction, VolumeInstruction, StopSignalInstruction, HealthcheckInstruction,
                 MaintainerInstruction, OnbuildInstruction>;

// One instruction and where it came from.
struct Instruction {
  std::string keyword;             // upper case: "RUN"
  int line = 0;                    // 1-based line where it starts
  std::string text;                // as written, continuation lines joined, heredoc bodies left out
  std::vector<std::string> flags;  // "--mount=type=cache,target=/x" (quotes removed)
  InstructionBody body;
};

// FROM and the instructions up to the next FROM.
struct Stage {
  std::string base;      // as in FromInstruction
  std::string name;      // lower-cased; empty when the stage has none
  std::string platform;  // --platform as written
  int line = 0;          // of the FROM
  std::string text;      // the FROM as written
  std::vector<Instruction> instructions;
};

struct Dockerfile {
  std::string file_name;
  char escape = '\\';                  // from "# escape=`"
  std::string syntax;                  // "# syntax=" if given: skiff builds with its own frontend regardless
  std::vector<Instruction> meta_args;  // ARG instructions before the first FROM
  std::vector<Stage> stages;
  std::vector<std::string> warnings;  // "Dockerfile:4: empty continuation line"
};

// Parses a Dockerfile. file_name goes into messages, as in
// "Dockerfile:7: unknown instruction: COPPY". Throws Error.
Dockerfile parse_dockerfile(std::string_view text, std::string_view file_name);

// Parses one --mount value. With env, values are expanded first (as docker
// does per step); without, fields holding a "$" are taken as they are and
// checked only when expanded. Throws Error with docker's messages.
RunMount parse_run_mount(std::string_view spec, const EnvLookup* env = nullptr, char escape = '\\');

// The instruction with its words resolved in env, as docker does before
// running it: quotes removed and variables substituted in ADD, COPY (and
// their --chown, --chmod, --checksum, heredocs not quoted), ENV, ARG values,
// EXPOSE (which may split into more ports), FROM (base and --platform: pass
// the meta args), LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and RUN --mount
// values. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are left as
// they are: the shell does their substitution. Throws Error.
Instruction expand_instruction(const Instruction& instruction, const EnvLookup& env, char escape = '\\');

}  // namespace skiff::build
