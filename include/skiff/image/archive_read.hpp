// Reading image archives: `skiff load`'s input, copied out entry by entry
// and hashed as it streams in.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "skiff/image/image_archive.hpp"

namespace skiff::image {

// Told while an archive streams in, so that layers can be unpacked as their
// blobs arrive.
struct ArchiveReadEvents {
  // A regular file entry starts: it is being copied to file.
  std::function<void(const std::string& name, const std::filesystem::path& file)> begin;
  // More of it was written.
  std::function<void()> progress;
  // It is whole and hashed (and, named blobs/sha256/<hex>, verified).
  std::function<void(const std::string& name)> done;
};

// Reads a tar from fd (plain, or gzip, zstd or xz as its first bytes say),
// copying each regular file into dir (as e1, e2, ...) and hashing it, into
// entries. A symbolic link becomes another name of the file entry it leads
// to inside the archive (as podman's <id>/layer.tar is); nothing is ever
// made on disk under an entry's name. Refuses, with an Error: names that
// are absolute or hold "..", links that lead out of the archive, hard links,
// devices, fifos, a name that comes twice, a blob whose content does not
// have the digest its name gives, and a tar that ends early.
void read_archive(int fd, const std::filesystem::path& dir, ArchiveEntries& entries, const ArchiveReadEvents& events);

// Copies the named files of an OCI image layout directory (layout_fd) into
// dir, hashed and verified as read_archive does; a name that is missing or
// is not a regular file (a symlink) is refused.
void read_layout_entries(int layout_fd, const std::vector<std::string>& names, const std::filesystem::path& dir,
                         ArchiveEntries& entries);

}  // namespace skiff::image
