// An image archive streamed in: each file copied out while it is hashed,
// every name and type checked before anything of it is written.
#include "skiff/image/archive_read.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "archive_reader.hpp"
#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/layer_limits.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

namespace fs = std::filesystem;

namespace {

// libarchive reads the (decompressed) archive through this.
struct ArchiveInput {
  ByteSource* src;
  std::string buf = std::string(1 << 20, '\0');
  std::string error;
};

la_ssize_t read_input(archive* a, void* data, const void** out) {
  auto* in = static_cast<ArchiveInput*>(data);
  try {
    size_t n = in->src->read(in->buf.data(), in->buf.size());
    *out = in->buf.data();
    return static_cast<la_ssize_t>(n);
  } catch (const Error& e) {
    in->error = e.what();
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

// The entry's name, relative; an Error for one that would leave the archive.
std::string entry_name(const char* raw) {
  try {
    return sanitize_entry_path(raw);
  } catch (const Error&) {
    throw Error(fmt::format("archive entry {:?} leaves the archive: refused", raw));
  }
}

// Checks a finished entry against the digest its name promises, and adds it.
void add_entry(ArchiveEntries& entries, const std::string& name, ArchiveEntry entry) {
  std::string promised = digest_of_blob_entry(name);
  if (!promised.empty() && promised != entry.digest)
    throw Error(fmt::format("archive entry {} does not match its digest: its content is {}", name, entry.digest));
  entries[name] = std::move(entry);
}

// The entry a symbolic link named name points to, resolved inside the
// archive ("a/layer.tar" -> "../b.tar" is "b.tar"); an Error for a target
// that is absolute or climbs out of the archive.
std::string link_target(const std::string& name, std::string_view raw_name, std::string_view link) {
  auto refuse = [&] {
    return Error(fmt::format("archive entry {:?} is a symbolic link that leads out of the archive: refused", raw_name));
  };
  if (link.empty() || link.front() == '/') throw refuse();
  std::vector<std::string> parts;
  size_t slash = name.rfind('/');
  std::string joined = (slash == std::string::npos ? std::string() : name.substr(0, slash + 1)) + std::string(link);
  for (size_t pos = 0; pos <= joined.size();) {
    size_t next = joined.find('/', pos);
    if (next == std::string::npos) next = joined.size();
    std::string part = joined.substr(pos, next - pos);
    pos = next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) throw refuse();
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  if (out.empty()) throw refuse();
  return out;
}

std::string file_type_name(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "a symbolic link";
    case AE_IFCHR:
    case AE_IFBLK:
      return "a device";
    case AE_IFIFO:
      return "a fifo";
    case AE_IFSOCK:
      return "a socket";
  }
  return "not a regular file";
}

}  // namespace

void read_archive(int fd, const fs::path& dir, ArchiveEntries& entries, const ArchiveReadEvents& events) {
  std::unique_ptr<ByteSource> src;
  try {
    src = read_ahead(decompress(fd_source(fd)));
  } catch (const Error& e) {
    if (e.err()) throw;
    throw e.with_context("read the archive");
  }
  ArchiveInput input{src.get()};
  ArchiveReader a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open(a.get(), &input, nullptr, read_input, nullptr) != ARCHIVE_OK) {
    if (!input.error.empty()) throw Error(fmt::format("read the archive: {}", input.error));
    throw Error("read the archive: it is not a tar archive");
  }
  auto failed = [&](std::string_view what) {
    if (!input.error.empty()) return Error(fmt::format("read the archive: {}", input.error));
    const char* why = archive_error_string(a.get());
    return Error(fmt::format("read the archive: {}: {}", what, why ? why : "damaged"));
  };
  archive_entry* entry;
  std::string last;
  size_t count = 0;
  // Symbolic links (podman's and older docker's archives name a layer
  // <id>/layer.tar, a link to ../<diff_id>.tar): never made on disk, only
  // other names of the file entries they lead to inside the archive.
  std::vector<std::pair<std::string, std::string>> links;  // name, target
  auto resolve_links = [&] {
    for (bool progress = true; progress;) {
      progress = false;
      for (auto it = links.begin(); it != links.end();) {
        auto target = entries.find(it->second);
        if (target == entries.end()) {
          ++it;
          continue;
        }
        std::string name = it->first;
        add_entry(entries, name, target->second);  // a link named blobs/sha256/HEX must lead to HEX's content
        it = links.erase(it);
        if (events.done) events.done(name);
        progress = true;
      }
    }
  };
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (count == 0 && input.error.empty()) throw Error("read the archive: it is not a tar archive");
      throw failed(last.empty() ? "at the start" : fmt::format("after entry {}", last));
    }
    const char* raw = archive_entry_pathname(entry);
    if (!header_is_whole(r) || !raw) throw damaged_header(a.get(), last).with_context("read the archive");
    std::string name = entry_name(raw);
    if (archive_entry_hardlink(entry)) throw Error(fmt::format("archive entry {:?} is a hard link: refused", raw));
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      last = name;
      continue;
    }
    if (name.empty() || entries.count(name) ||
        std::any_of(links.begin(), links.end(), [&](auto& l) { return l.first == name; }))
      throw Error(fmt::format("archive entry {:?} comes twice: refused", raw));
    if (type == AE_IFLNK) {
      const char* link = archive_entry_symlink(entry);
      links.emplace_back(name, link_target(name, raw, link ? link : ""));
      resolve_links();
      last = name;
      continue;
    }
    if (type != AE_IFREG) throw Error(fmt::format("archive entry {:?} is {}: refused", raw, file_type_name(type)));
    ++count;
    fs::path file = dir / fmt::format("e{}", count);
    UniqueFd out = open_or_throw(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (events.begin) events.begin(name, file);
    SpaceBudget space(out.get());
    BackgroundSha256 hash;
    uint64_t size = 0;
    for (;;) {
      const void* block;
      size_t len;
      la_int64_t offset;
      int rr = archive_read_data_block(a.get(), &block, &len, &offset);
      if (rr == ARCHIVE_EOF) break;
      if (rr < ARCHIVE_WARN) throw failed(fmt::format("entry {}", name));
      if (static_cast<uint64_t>(offset) != size) throw failed(fmt::format("entry {} has holes", name));
      std::string_view chunk(static_cast<const char*>(block), len);
      uint64_t n = hash.update(chunk);
      write_all(out.get(), chunk);
      hash.wait_for(n);  // the block is libarchive's until the next read
      size += len;
      space.wrote(len);
      if (events.progress) events.progress();
    }
    if (static_cast<int64_t>(size) != archive_entry_size(entry))
      throw Error(fmt::format("read the archive: entry {} ends early: it is truncated", name));
    add_entry(entries, name, {file, hash.finish(), size});
    if (events.done) events.done(name);
    if (!links.empty()) resolve_links();
    last = name;
  }
  if (!input.error.empty()) throw Error(fmt::format("read the archive: {}", input.error));
  if (count == 0) throw Error("read the archive: it holds no files");
}

void read_layout_entries(int layout_fd, const std::vector<std::string>& names, const fs::path& dir,
                         ArchiveEntries& entries) {
  for (const auto& raw : names) {
    std::string name = entry_name(raw.c_str());
    if (entries.count(name)) continue;
    int rfd = openat2_fd(layout_fd, name, O_RDONLY | O_NOFOLLOW,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (rfd < 0) {
      if (errno == ENOENT) throw Error(fmt::format("the image layout lacks {}, which its metadata names", name));
      if (errno == ELOOP || errno == EXDEV)
        throw Error(fmt::format("{} in the image layout is a symbolic link: refused", name));
      throw_errno(fmt::format("open {} in the image layout", name));
    }
    UniqueFd in(rfd);
    struct stat st {};
    if (fstat(in.get(), &st) != 0) throw_errno(fmt::format("stat {}", name));
    if (!S_ISREG(st.st_mode)) throw Error(fmt::format("{} in the image layout is not a regular file: refused", name));
    fs::path file = dir / fmt::format("d{}", entries.size() + 1);
    UniqueFd out = open_or_throw(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    SpaceBudget space(out.get());
    Sha256 hash;
    uint64_t size = 0;
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(fmt::format("read {}", name));
      if (n == 0) break;
      std::string_view chunk(buf.data(), static_cast<size_t>(n));
      hash.update(chunk);
      write_all(out.get(), chunk);
      size += chunk.size();
      space.wrote(chunk.size());
    }
    add_entry(entries, name, {file, hash.finish(), size});
  }
}

}  // namespace skiff::image
