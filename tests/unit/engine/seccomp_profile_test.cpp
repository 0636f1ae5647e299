#include "skiff/engine/seccomp_profile.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "skiff/runtime/seccomp.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

using namespace skiff::engine;
namespace fs = std::filesystem;

namespace {

const SeccompTarget kAmd64{{"CAP_CHOWN", "CAP_SYS_CHROOT"}, "x86_64", "6.1.0-13-amd64"};

// The names of every rule with this action.
std::vector<std::string> names_with(const skiff::runtime::Seccomp& s, const std::string& action) {
  std::vector<std::string> out;
  for (const auto& r : s.syscalls)
    if (r.action == action) out.insert(out.end(), r.names.begin(), r.names.end());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("seccomp: the default profile denies by EPERM and allows what docker's does, by capability") {
  auto s = resolve_seccomp_profile(default_seccomp_profile(), kAmd64);
  CHECK(s.defaultAction == "SCMP_ACT_ERRNO");
  CHECK(s.defaultErrnoRet == 1u);
  CHECK(s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  auto allowed = names_with(s, "SCMP_ACT_ALLOW");
  for (const char* name : {"read", "openat", "execve", "clone", "socket", "chroot", "arch_prctl", "ptrace"})
    CHECK(has(allowed, name));
  for (const char* name : {"unshare", "mount", "setns", "keyctl", "add_key", "io_uring_setup", "userfaultfd", "bpf",
                           "perf_event_open", "reboot", "init_module", "s390_runtime_instr"})
    CHECK_FALSE(has(allowed, name));
  CHECK(has(names_with(s, "SCMP_ACT_ERRNO"), "clone3"));
  // With CAP_SYS_ADMIN: namespaces and mounts; clone unrestricted; clone3 no longer ENOSYS.
  auto admin = resolve_seccomp_profile(default_seccomp_profile(), {{"CAP_SYS_ADMIN"}, "x86_64", "6.1.0"});
  auto admin_allowed = names_with(admin, "SCMP_ACT_ALLOW");
  CHECK(has(admin_allowed, "unshare"));
  CHECK(has(admin_allowed, "clone3"));
  CHECK_FALSE(has(names_with(admin, "SCMP_ACT_ERRNO"), "clone3"));
  CHECK_FALSE(has(admin_allowed, "chroot"));  // CAP_SYS_CHROOT not held
  // Before 4.8 ptrace could bypass seccomp: not allowed there.
  CHECK_FALSE(
      has(names_with(resolve_seccomp_profile(default_seccomp_profile(), {{}, "x86_64", "4.4.0"}), "SCMP_ACT_ALLOW"),
          "ptrace"));
}

TEST_CASE("seccomp: the default profile compiles, and every name it has is one libseccomp knows") {
  auto prog = skiff::runtime::compile_seccomp(resolve_seccomp_profile(default_seccomp_profile(), kAmd64));
  CHECK(prog.size() > 100);
  CHECK(prog.size() < 4096);  // the kernel's limit (BPF_MAXINSNS)
}

TEST_CASE("seccomp: docker's older forms and mistakes") {
  // "name" instead of "names", "architectures" instead of "archMap".
  auto s = resolve_seccomp_profile(
      R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
          "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","args":null}]})",
      kAmd64);
  CHECK(s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
  REQUIRE(s.syscalls.size() == 1);
  CHECK(s.syscalls[0].names == std::vector<std::string>{"mkdir"});
  CHECK_THROWS_WITH(resolve_seccomp_profile("[1,", kAmd64), Catch::StartsWith("not JSON"));
  CHECK_THROWS_WITH(resolve_seccomp_profile("{}", kAmd64), "no defaultAction: not a seccomp profile");
  CHECK_THROWS_WITH(resolve_seccomp_profile(R"({"defaultAction":"SCMP_ACT_ALLOW"})", {{}, "vax", "6.1"}),
                    "seccomp profiles are not supported on vax");
  CHECK_THROWS_WITH(
      skiff::runtime::compile_seccomp(resolve_seccomp_profile(
          R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"NOPE"}]})", kAmd64)),
      "unknown seccomp action \"NOPE\"");
  CHECK_THROWS_WITH(skiff::runtime::compile_seccomp(resolve_seccomp_profile(
                        R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
              "args":[{"index":0,"value":1,"op":"SCMP_CMP_SOMETIMES"}]}]})",
                        kAmd64)),
                    "unknown seccomp operator \"SCMP_CMP_SOMETIMES\"");
}

TEST_CASE("seccomp: a compiled program is kept in the store and read back; another target compiles anew") {
  char tmpl[] = "/tmp/skiff-seccomp-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  skiff::store::Paths paths{fs::path(tmpl) / "root", fs::path(tmpl) / "run"};
  auto first = seccomp_program(paths, default_seccomp_profile(), kAmd64);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(paths.root / "seccomp")) {
    ++files;
    CHECK(fs::file_size(e.path()) == first.size() * sizeof(sock_filter));
  }
  CHECK(files == 1);
  auto again = seccomp_program(paths, default_seccomp_profile(), kAmd64);
  REQUIRE(again.size() == first.size());
  CHECK(std::equal(first.begin(), first.end(), again.begin(), [](const sock_filter& a, const sock_filter& b) {
    return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
  }));
  seccomp_program(paths, default_seccomp_profile(), {{"CAP_SYS_ADMIN"}, "x86_64", "6.1.0-13-amd64"});
  files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(paths.root / "seccomp")) ++files;
  CHECK(files == 2);
  skiff::remove_tree(tmpl);
}

// Found by tests/fuzz (fuzz_seccomp): a value of 2e64 was cast to uint64_t by
// nlohmann's get (undefined behaviour), and -1 or 1.5 became other numbers.
TEST_CASE("seccomp: numbers that are not unsigned integers of their size are refused") {
  auto rule = [](const std::string& fields) {
    return R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",)" + fields +
           "}]}";
  };
  CHECK_THROWS_WITH(resolve_seccomp_profile(rule(R"("args":[{"index":0,"value":2e64,"op":"SCMP_CMP_EQ"}])"), kAmd64),
                    "value of a syscall argument is not an integer from 0 to 18446744073709551615: 2e+64");
  CHECK_THROWS_WITH(resolve_seccomp_profile(rule(R"("args":[{"index":0,"valueTwo":-1,"op":"SCMP_CMP_EQ"}])"), kAmd64),
                    "valueTwo of a syscall argument is not an integer from 0 to 18446744073709551615: -1");
  CHECK_THROWS_WITH(resolve_seccomp_profile(rule(R"("args":[{"index":1.5,"op":"SCMP_CMP_EQ"}])"), kAmd64),
                    "index of a syscall argument is not an integer from 0 to 4294967295: 1.5");
  CHECK_THROWS_WITH(resolve_seccomp_profile(rule(R"("errnoRet":4294967296)"), kAmd64),
                    "errnoRet of a syscalls rule is not an integer from 0 to 4294967295: 4294967296");
  CHECK_THROWS_WITH(resolve_seccomp_profile(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1})", kAmd64),
                    "defaultErrnoRet of the profile is not an integer from 0 to 4294967295: -1");
  auto s = resolve_seccomp_profile(
      rule(R"("errnoRet":1,"args":[{"index":5,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}])"), kAmd64);
  REQUIRE(s.syscalls.size() == 1);
  CHECK(s.syscalls[0].args.at(0).value == UINT64_MAX);
  CHECK(s.syscalls[0].args.at(0).index == 5);
}
