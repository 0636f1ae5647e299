#include "seccomp_filter.hpp"

#include <errno.h>
#include <fmt/format.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "skiff/runtime/seccomp.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

namespace {

using Ctx = std::unique_ptr<void, decltype(&seccomp_release)>;

void check(int rc, std::string_view what) {
  if (rc < 0) throw Error(fmt::format("seccomp filter: {}: {}", what, strerror(-rc)));
}

// libseccomp 2.5 exports the program only to a file descriptor.
std::vector<sock_filter> export_program(void* ctx) {
  UniqueFd mem(memfd_create("seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create");
  check(seccomp_export_bpf(ctx, mem.get()), "export");
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) throw Error("seccomp filter: bad program size");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) throw_errno("read seccomp program");
  return prog;
}

uint32_t action_of(const std::string& name, std::optional<uint32_t> errno_ret) {
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY")
    throw Error("seccomp action SCMP_ACT_NOTIFY is not supported: skiff runs no agent to answer notifications");
  throw Error(fmt::format("unknown seccomp action {:?}", name));
}

uint32_t arch_of(const std::string& name) {
  static const std::map<std::string, uint32_t> kArches = {
      {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},   {"SCMP_ARCH_X86", SCMP_ARCH_X86},
      {"SCMP_ARCH_X32", SCMP_ARCH_X32},         {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
      {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},         {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
      {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE}, {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
      {"SCMP_ARCH_S390", SCMP_ARCH_S390},       {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
      {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},   {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64}};
  auto it = kArches.find(name);
  if (it == kArches.end()) throw Error(fmt::format("unknown seccomp architecture {:?}", name));
  return it->second;
}

scmp_compare op_of(const std::string& name) {
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  throw Error(fmt::format("unknown seccomp operator {:?}", name));
}

}  // namespace

std::vector<sock_filter> compile_seccomp(const Seccomp& s) {
  uint32_t default_action = action_of(s.defaultAction, s.defaultErrnoRet);
  Ctx ctx(seccomp_init(default_action), &seccomp_release);
  if (!ctx) throw Error("could not set up a seccomp filter");
  // A binary tree of the syscall numbers: fewer comparisons per system call
  // than libseccomp's default linear list, for an allow-list of hundreds.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (const auto& a : s.architectures) {
    int rc = seccomp_arch_add(ctx.get(), arch_of(a));
    if (rc < 0 && rc != -EEXIST) check(rc, "add architecture " + a);
  }
  for (const auto& rule : s.syscalls) {
    uint32_t action = action_of(rule.action, rule.errnoRet);
    if (action == default_action) continue;  // libseccomp refuses a rule that changes nothing
    // Arguments on distinct indexes must all match (one rule); several on
    // one index are alternatives (a rule each), as runc reads them.
    std::set<uint32_t> indexes;
    for (const auto& a : rule.args) indexes.insert(a.index);
    bool one_rule = indexes.size() == rule.args.size();
    std::vector<scmp_arg_cmp> cmps;
    for (const auto& a : rule.args) {
      if (a.index > 5) throw Error(fmt::format("seccomp argument index {} is out of range (0-5)", a.index));
      cmps.push_back(SCMP_CMP64(a.index, op_of(a.op), a.value, a.valueTwo));
    }
    for (const auto& name : rule.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // not a call this libseccomp knows
      auto add = [&](unsigned n, const scmp_arg_cmp* c) {
        int rc = seccomp_rule_add_array(ctx.get(), action, nr, n, c);
        if (rc < 0 && rc != -EEXIST) check(rc, "rule for " + name);
      };
      if (one_rule)
        add(static_cast<unsigned>(cmps.size()), cmps.data());
      else
        for (const auto& c : cmps) add(1, &c);
    }
  }
  return export_program(ctx.get());
}

std::vector<sock_filter> fake_id_calls_filter() {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) throw Error("could not set up a seccomp filter");
  // The 32-bit calls too, so that an i386 binary in the image gets the same answers.
  check(seccomp_arch_add(ctx.get(), SCMP_ARCH_X86), "add x86");
  const uint32_t fake = SCMP_ACT_ERRNO(0);
  for (const char* name :
       {"chown",       "fchown",      "lchown",     "fchownat",   "chown32",    "fchown32",   "lchown32",
        "setuid",      "setgid",      "setreuid",   "setregid",   "setresuid",  "setresgid",  "setgroups",
        "setfsuid",    "setfsgid",    "setuid32",   "setgid32",   "setreuid32", "setregid32", "setresuid32",
        "setresgid32", "setgroups32", "setfsuid32", "setfsgid32", "capset"}) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    check(seccomp_rule_add(ctx.get(), fake, nr, 0), name);
  }
  // Device nodes: mknod(path, mode, dev) and mknodat(dirfd, path, mode, dev).
  for (unsigned type : {S_IFCHR, S_IFBLK}) {
    check(seccomp_rule_add(ctx.get(), fake, SCMP_SYS(mknod), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, type)), "mknod");
    check(seccomp_rule_add(ctx.get(), fake, SCMP_SYS(mknodat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, type)),
          "mknodat");
  }
  return export_program(ctx.get());
}

}  // namespace skiff::runtime
