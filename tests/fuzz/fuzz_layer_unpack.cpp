// libFuzzer target: a layer tar stream (plain or gzip) unpacked from memory
// into a fresh directory, removed after each input; whatever the tar holds,
// nothing may appear or change beside that directory (tests/fuzz/run.sh
// builds and runs it).
//
// Run as root, the target first moves into a user namespace of its own whose
// root is an unprivileged id of the host (as skiff unpacks layers under a
// subordinate map): a confinement bug then cannot write over the host's files.
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "skiff/image/byte_source.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/error.hpp"

namespace {

namespace fs = std::filesystem;

// The input, read in small pieces so that libarchive sees short reads.
class MemorySource : public skiff::image::ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  size_t read(char* buf, size_t n) override {
    size_t k = std::min({n, data_.size(), size_t{4096}});
    memcpy(buf, data_.data(), k);
    data_.remove_prefix(k);
    return k;
  }

 private:
  std::string_view data_;
};

bool write_text(const char* path, std::string_view text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Root of the host becomes root of a new user namespace mapped to 65536 ids
// from 1065536 (ids no account on a test machine has). A process may map
// only its own id into its namespace, so a child left outside writes the map.
void leave_host_root() {
  if (geteuid() != 0) return;
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) abort();
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(1);
    std::string base = "/proc/" + std::to_string(parent);
    bool ok = write_text((base + "/setgroups").c_str(), "deny") &&
              write_text((base + "/uid_map").c_str(), "0 1065536 65536\n") &&
              write_text((base + "/gid_map").c_str(), "0 1065536 65536\n");
    _exit(ok ? 0 : 1);
  }
  close(go[0]);
  int status = 1;
  bool ok = child > 0 && unshare(CLONE_NEWUSER) == 0;
  int err = errno;
  if (child > 0) {
    if (write(go[1], "x", 1) != 1) ok = false;
    close(go[1]);
    ok = waitpid(child, &status, 0) == child && ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
    fprintf(stderr, "fuzz_layer_unpack: cannot make a user namespace (%s); refusing to unpack as root\n",
            strerror(err));
    exit(1);
  }
}

fs::path sandbox;  // holds "outside/canary", and "layer" (the target) while unpacking

bool sandbox_intact() {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(sandbox)) {
    (void)e;
    ++n;
  }
  struct stat st {};
  return n == 1 && lstat((sandbox / "outside").c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
         fs::is_empty(sandbox / "outside" / "d") && lstat((sandbox / "outside" / "canary").c_str(), &st) == 0 &&
         S_ISREG(st.st_mode) && st.st_size == 7 && st.st_nlink == 1 && (st.st_mode & 07777) == 0644;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  leave_host_root();
  umask(022);
  std::string templ = (fs::temp_directory_path() / "skiff-fuzz-unpack-XXXXXX").string();
  if (!mkdtemp(templ.data())) {
    perror("mkdtemp");
    exit(1);
  }
  sandbox = templ;
  fs::create_directories(sandbox / "outside" / "d");
  FILE* f = fopen((sandbox / "outside" / "canary").c_str(), "we");
  fputs("canary\n", f);
  fclose(f);
  chmod((sandbox / "outside" / "canary").c_str(), 0644);
  atexit([] {
    std::error_code ec;
    fs::remove_all(sandbox, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fs::path target = sandbox / "layer";
  // Both ways a layer is unpacked: overlay whiteouts (a layer of its own),
  // and whiteouts applied to what is there (a flattened copy).
  for (bool overlay : {true, false}) {
    fs::create_directory(target);
    try {
      skiff::image::unpack_layer_from(std::make_unique<MemorySource>(input), target,
                                      {.keep_owners = true, .overlay_whiteouts = overlay});
    } catch (const skiff::Error&) {
    }
    // A layer may leave directories without write or search permission.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(target, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) chmod(it->path().c_str(), 0755);
    }
    chmod(target.c_str(), 0755);
    fs::remove_all(target, ec);
    if (ec || fs::exists(fs::symlink_status(target))) {
      fprintf(stderr, "cannot remove %s: %s\n", target.c_str(), ec.message().c_str());
      abort();
    }
    if (!sandbox_intact()) {
      fprintf(stderr, "the layer changed something outside its directory %s\n", target.c_str());
      abort();
    }
  }
  return 0;
}
