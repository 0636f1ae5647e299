#include "seccomp_filter.hpp"

#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include <fmt/format.h>

#include "skiff/util/error.hpp"
#include "skiff/util/unique_fd.hpp"

namespace skiff::runtime {

std::vector<sock_filter> fake_id_calls_filter() {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) throw Error("could not set up a seccomp filter");
  auto check = [](int rc, const char* what) {
    if (rc < 0) throw Error(fmt::format("seccomp filter: {}: {}", what, strerror(-rc)));
  };
  // The 32-bit calls too, so that an i386 binary in the image gets the same answers.
  check(seccomp_arch_add(ctx.get(), SCMP_ARCH_X86), "add x86");
  const uint32_t fake = SCMP_ACT_ERRNO(0);
  for (const char* name : {"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32", "setuid",
                           "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
                           "setfsgid", "setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32",
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
  // libseccomp 2.5 exports the program only to a file descriptor.
  UniqueFd mem(memfd_create("seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create");
  check(seccomp_export_bpf(ctx.get(), mem.get()), "export");
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) throw Error("seccomp filter: bad program size");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) throw_errno("read seccomp program");
  return prog;
}

}  // namespace skiff::runtime
