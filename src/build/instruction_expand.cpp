// Resolving an instruction's words in the scope of its build step, as
// BuildKit does when it dispatches the instruction (its Expand methods).
#include "skiff/build/dockerfile.hpp"
#include "skiff/util/error.hpp"

namespace skiff::build {

namespace {

struct Expander {
  const EnvLookup& env;
  WordOptions options;
  const std::vector<std::string>& flags;

  std::string word(const std::string& w) const { return expand_word(w, env, options); }

  void each(std::vector<std::string>& words) const {
    for (auto& w : words) w = word(w);
  }

  void each(std::vector<KeyValue>& pairs) const {
    for (auto& kv : pairs) {
      kv.key = word(kv.key);
      kv.value = word(kv.value);
    }
  }

  void operator()(FromInstruction& from) const {
    from.base = word(from.base);
    from.platform = word(from.platform);
  }

  void operator()(RunInstruction& run) const {
    // Only the --mount values, parsed again from the flags with variables
    // expanded: the command is the shell's business.
    run.mounts.clear();
    for (std::string_view f : flags)
      if (f.substr(0, 8) == "--mount=") run.mounts.push_back(parse_run_mount(f.substr(8), &env, options.escape));
  }

  void operator()(CopyInstruction& copy) const {
    each(copy.sources);
    copy.dest = word(copy.dest);
    copy.chown = word(copy.chown);
    copy.chmod = word(copy.chmod);
    copy.checksum = word(copy.checksum);
    // Heredoc bodies: variables and backslash escapes, whatever the file's
    // escape character; quotes are text.
    WordOptions body{.quotes_literal = true};
    for (auto& h : copy.heredocs)
      if (h.expand) h.content = expand_word(h.content, env, body);
  }

  void operator()(EnvInstruction& e) const { each(e.vars); }
  void operator()(LabelInstruction& l) const { each(l.labels); }

  // Only the defaults: a name is a name.
  void operator()(ArgInstruction& a) const {
    for (auto& arg : a.args)
      if (arg.value) arg.value = word(*arg.value);
  }

  void operator()(ExposeInstruction& e) const {
    std::vector<std::string> ports;
    for (const auto& p : e.ports)
      for (auto& w : expand_words(p, env, options)) ports.push_back(std::move(w));
    e.ports = std::move(ports);
  }

  void operator()(VolumeInstruction& v) const { each(v.paths); }
  void operator()(WorkdirInstruction& w) const { w.path = word(w.path); }
  void operator()(UserInstruction& u) const { u.user = word(u.user); }
  void operator()(StopSignalInstruction& s) const { s.signal = word(s.signal); }

  // RUN's command, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ONBUILD.
  template <typename T>
  void operator()(T&) const {}
};

}  // namespace

Instruction expand_instruction(const Instruction& instruction, const EnvLookup& env, char escape) {
  Instruction out = instruction;
  std::visit(Expander{.env = env, .options = {.escape = escape}, .flags = out.flags}, out.body);
  return out;
}

}  // namespace skiff::build
