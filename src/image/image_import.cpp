#include "skiff/image/image_import.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <memory>

#include "archive_reader.hpp"
#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/layer_limits.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/store/file_lock.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Removes the temp file unless committed.
struct TempFile {
  fs::path path;
  bool keep = false;
  ~TempFile() {
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

// Decompresses fd into out while hashing; returns {digest, size}. The
// stream is a layer's: compressed once, its gzip trailers checked, and
// refused when it would fill the store's file system (layer_limits.cpp).
std::pair<std::string, uint64_t> decompress_to(int fd, int out) {
  // What is wrong with the input says where it was found; a failed read of
  // the file ("read layer: ...") says so itself.
  auto reading = [](auto step) {
    try {
      return step();
    } catch (const Error& e) {
      if (e.err()) throw;
      throw e.with_context("read the tarball");
    }
  };
  auto src = reading([&] { return decompress(fd_source(fd)); });
  SpaceBudget space(out);
  Sha256 hash;
  uint64_t size = 0;
  std::string buf(1 << 20, '\0');
  for (;;) {
    size_t n = reading([&] { return src->read(buf.data(), buf.size()); });
    if (n == 0) break;
    std::string_view chunk(buf.data(), n);
    hash.update(chunk);
    write_all(out, chunk);
    size += n;
    space.wrote(n);
  }
  if (size == 0) throw Error("read the tarball: it is empty");
  return {hash.finish(), size};
}

// Walks the tar's headers: is it a tar, and does every name stay inside?
uint64_t check_tar(int fd) {
  ArchiveReader a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_fd(a.get(), fd, 1 << 20) != ARCHIVE_OK)
    throw Error(fmt::format("not a tar archive: {}", archive_error_string(a.get())));
  archive_entry* entry;
  uint64_t content = 0;
  std::string last;  // the last entry read, to say where a damaged header is
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) throw Error(fmt::format("not a tar archive: {}", archive_error_string(a.get())));
    const char* name = archive_entry_pathname(entry);
    if (!header_is_whole(r) || !name) throw damaged_header(a.get(), last);
    sanitize_entry_path(name);
    if (const char* link = archive_entry_hardlink(entry)) sanitize_entry_path(link);
    content += static_cast<uint64_t>(archive_entry_size(entry));
    last = name;
  }
  return content;
}

// The host's architecture in GOARCH words, as image configs name it.

}  // namespace

ImageRecord import_tarball(ImageStore& store, const store::Paths& paths, int fd, const ImportOptions& opts) {
  store::HeldEntry work = store::hold_new_entry(paths, "import", 0600, true);
  TempFile tmp{work.path};
  UniqueFd& out = work.fd;
  auto [layer_digest, layer_size] = decompress_to(fd, out.get());
  if (lseek(out.get(), 0, SEEK_SET) != 0) throw_errno("seek");
  uint64_t content_size = check_tar(out.get());
  if (fsync(out.get()) != 0) throw_errno("fsync layer");
  if (!store.has_blob(layer_digest)) {
    store.commit_blob_file(tmp.path, layer_digest);
    tmp.keep = true;
  }

  std::string created = rfc3339_now();
  json history{{"created", created}, {"created_by", "skiff import"}};
  if (!opts.message.empty()) history["comment"] = opts.message;
  json config{{"architecture", host_architecture()},
              {"os", "linux"},
              {"created", created},
              {"config", opts.config},
              {"history", json::array({history})}};
  return store_image(store, {{layer_digest, layer_digest, "application/vnd.oci.image.layer.v1.tar", layer_size}},
                     config, opts.names, content_size);
}

}  // namespace skiff::image
