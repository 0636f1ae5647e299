// Reading, writing and removing files and trees.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "skiff/util/unique_fd.hpp"

namespace skiff {

// Whole file as a string; throws Error naming the path.
std::string read_file(const std::filesystem::path& path);
// Like read_file, but nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);

struct AtomicWriteOptions {
  mode_t mode = 0644;
  bool durable = true;  // fsync the file and its directory
};
// Write-to-temp, fsync, rename: readers see the old or the new content, never half.
void write_file_atomic(const std::filesystem::path& path, std::string_view content, AtomicWriteOptions opts = {});

// mkdir -p with the given mode, exactly (the umask does not narrow it), for
// the directories it creates.
void make_dirs(const std::filesystem::path& path, mode_t mode = 0755);

// rm -rf without following symlinks; makes directories writable on the way when
// it owns them. Returns false (and leaves the rest) on EACCES/EPERM so a caller
// can retry inside the user namespace; throws on other errors.
bool remove_tree(const std::filesystem::path& path);

// The names in a directory (any descriptor of it, O_PATH too) in byte
// order, without "." and "..". Throws Error.
std::vector<std::string> sorted_entries(int dirfd);

// Opens path with O_CLOEXEC; throws Error naming the path.
UniqueFd open_or_throw(const std::filesystem::path& path, int flags, mode_t mode = 0);

// openat2(2): path (empty: dirfd itself) opened from dirfd under the
// RESOLVE_* rules in resolve, O_CLOEXEC added, retried while the kernel
// says EAGAIN (a rename raced the lookup). -1 with errno when it fails.
int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve);

// A pipe, both ends close-on-exec: {read end, write end}.
std::pair<UniqueFd, UniqueFd> make_pipe();

// Writes all of data to fd, retrying on EINTR and short writes.
void write_all(int fd, std::string_view data);

// A random lowercase hex string of n characters (ids, temp names).
std::string random_hex(size_t n);

// Go's path.Clean: "a//b/./c/.." -> "a/b", "" -> ".", "/../x" -> "/x".
std::string clean_path(std::string_view path);

}  // namespace skiff
