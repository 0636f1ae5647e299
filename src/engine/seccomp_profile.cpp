#include "skiff/engine/seccomp_profile.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "skiff/runtime/seccomp.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::engine {

namespace {

using nlohmann::json;

// The profile's names of this machine's architecture: libseccomp's for
// archMap, Go's (as docker's profiles write them) for includes.arches.
struct ArchNames {
  const char* machine;
  const char* scmp;
  const char* go;
};
constexpr ArchNames kArchNames[] = {
    {"x86_64", "SCMP_ARCH_X86_64", "amd64"},     {"aarch64", "SCMP_ARCH_AARCH64", "arm64"},
    {"ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le"}, {"s390x", "SCMP_ARCH_S390X", "s390x"},
    {"riscv64", "SCMP_ARCH_RISCV64", "riscv64"}, {"i686", "SCMP_ARCH_X86", "386"},
    {"armv7l", "SCMP_ARCH_ARM", "arm"}};

const ArchNames* arch_names(const std::string& machine) {
  for (const auto& a : kArchNames)
    if (machine == a.machine) return &a;
  return nullptr;
}

// "6.1.0-13-amd64" >= "4.8"?
bool kernel_at_least(const std::string& release, const std::string& min) {
  int have[2] = {0, 0}, want[2] = {0, 0};
  if (sscanf(release.c_str(), "%d.%d", &have[0], &have[1]) < 1) return true;
  if (sscanf(min.c_str(), "%d.%d", &want[0], &want[1]) < 1) throw Error(fmt::format("invalid minKernel {:?}", min));
  return have[0] != want[0] ? have[0] > want[0] : have[1] >= want[1];
}

bool contains(const json& list, const std::string& what) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const json& v) { return v.is_string() && v == what; });
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key))
    for (const auto& v : j.at(key)) out.push_back(v.get<std::string>());
  return out;
}

// A number of the profile as an unsigned integer of at most max; where is
// for the message. nlohmann's get<uint32_t>() would cast a fraction, a
// negative or too large a number (UB for a double out of range).
uint64_t unsigned_at(const json& j, const char* key, uint64_t max, std::string_view where) {
  const json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
    throw Error(fmt::format("{} of {} is not an integer from 0 to {}: {}", key, where, max, v.dump()));
  return v.get<uint64_t>();
}

// Whether a syscalls[] entry applies to target (moby's includes/excludes).
bool applies(const json& rule, const SeccompTarget& target, const char* go_arch) {
  auto has_cap = [&](const json& c) {
    return std::find(target.capabilities.begin(), target.capabilities.end(), c.get<std::string>()) !=
           target.capabilities.end();
  };
  if (rule.contains("includes")) {
    const json& in = rule.at("includes");
    if (in.contains("arches") && !in.at("arches").empty() && !contains(in.at("arches"), go_arch)) return false;
    if (in.contains("caps"))
      for (const auto& c : in.at("caps"))
        if (!has_cap(c)) return false;
    if (in.contains("minKernel") && !in.at("minKernel").get<std::string>().empty() &&
        !kernel_at_least(target.kernel, in.at("minKernel").get<std::string>()))
      return false;
  }
  if (rule.contains("excludes")) {
    const json& ex = rule.at("excludes");
    if (contains(ex.value("arches", json::array()), go_arch)) return false;
    if (ex.contains("caps"))
      for (const auto& c : ex.at("caps"))
        if (has_cap(c)) return false;
  }
  return true;
}

// FNV-1a: a key for the store's cache of programs (the user's own files,
// so nothing to defend against; a hash function of libcrypto's would cost
// its CPU probe at every start).
uint64_t fnv1a(std::string_view s, uint64_t h = 14695981039346656037ULL) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

SeccompTarget host_seccomp_target(std::vector<std::string> capabilities) {
  utsname u{};
  uname(&u);
  return {std::move(capabilities), u.machine, u.release};
}

runtime::Seccomp resolve_seccomp_profile(std::string_view profile_json, const SeccompTarget& target) {
  json p;
  try {
    p = json::parse(profile_json);
  } catch (const json::exception& e) {
    throw Error(fmt::format("not JSON: {}", e.what()));
  }
  const ArchNames* arch = arch_names(target.arch);
  if (!arch) throw Error(fmt::format("seccomp profiles are not supported on {}", target.arch));
  try {
    if (!p.is_object() || !p.contains("defaultAction")) throw Error("no defaultAction: not a seccomp profile");
    runtime::Seccomp s;
    s.defaultAction = p.at("defaultAction").get<std::string>();
    if (p.contains("defaultErrnoRet"))
      s.defaultErrnoRet = static_cast<uint32_t>(unsigned_at(p, "defaultErrnoRet", UINT32_MAX, "the profile"));
    if (p.contains("archMap")) {
      for (const auto& m : p.at("archMap"))
        if (m.at("architecture").get<std::string>() == arch->scmp) {
          s.architectures.push_back(arch->scmp);
          for (const auto& sub : strings(m, "subArchitectures")) s.architectures.push_back(sub);
        }
    } else {
      s.architectures = strings(p, "architectures");
    }
    s.flags = strings(p, "flags");
    for (const auto& rule : p.value("syscalls", json::array())) {
      if (!applies(rule, target, arch->go)) continue;
      runtime::SeccompSyscall r;
      r.names = strings(rule, "names");
      if (rule.contains("name")) r.names.push_back(rule.at("name").get<std::string>());
      r.action = rule.at("action").get<std::string>();
      if (rule.contains("errnoRet"))
        r.errnoRet = static_cast<uint32_t>(unsigned_at(rule, "errnoRet", UINT32_MAX, "a syscalls rule"));
      for (const auto& a : rule.value("args", json::array())) {
        if (a.is_null()) continue;
        r.args.push_back(
            {.index = static_cast<uint32_t>(unsigned_at(a, "index", UINT32_MAX, "a syscall argument")),
             .value = a.contains("value") ? unsigned_at(a, "value", UINT64_MAX, "a syscall argument") : 0,
             .valueTwo = a.contains("valueTwo") ? unsigned_at(a, "valueTwo", UINT64_MAX, "a syscall argument") : 0,
             .op = a.at("op").get<std::string>()});
      }
      s.syscalls.push_back(std::move(r));
    }
    return s;
  } catch (const json::exception& e) {
    throw Error(e.what());
  }
}

std::vector<sock_filter> seccomp_program(const store::Paths& paths, std::string_view profile_json,
                                         const SeccompTarget& target) {
  uint64_t h = fnv1a(profile_json);
  for (const auto& c : target.capabilities) h = fnv1a(c + ",", h);
  h = fnv1a(target.arch + "/" + target.kernel, h);
  std::filesystem::path file = paths.seccomp_program(fmt::format("{:016x}", h));
  if (auto cached = read_file_if_exists(file);
      cached && !cached->empty() && cached->size() % sizeof(sock_filter) == 0) {
    std::vector<sock_filter> prog(cached->size() / sizeof(sock_filter));
    std::memcpy(prog.data(), cached->data(), cached->size());
    return prog;
  }
  std::vector<sock_filter> prog = runtime::compile_seccomp(resolve_seccomp_profile(profile_json, target));
  try {
    make_dirs(file.parent_path(), 0700);
    write_file_atomic(file,
                      std::string_view(reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter)),
                      {.mode = 0600, .durable = false});
  } catch (const Error&) {
    // Compiled again next time (a full disk, a read-only store).
  }
  return prog;
}

}  // namespace skiff::engine
