// `skiff save`: stored images as a docker-archive, an oci-archive or an OCI
// image layout directory. Blobs go out as they are stored, copied by the
// kernel (copy_file_range, else sendfile) straight from the store.
#include "skiff/image/archive_write.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "skiff/image/byte_source.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/manifest.hpp"
#include "skiff/image/reference.hpp"
#include "skiff/image/tar_writer.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"

namespace skiff::image {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A file of the archive: its bytes, or the stored blob file that holds them.
struct OutFile {
  std::string name;
  std::string text;  // when file is empty
  fs::path file;
  uint64_t size = 0;
};

// What an archive holds, in the order it is written.
struct Layout {
  std::vector<OutFile> files;
};

// A layer blob the directory writer put in place itself (compressed): the
// layer descriptor the manifest gets instead of the stored one.
using Recompress = std::function<std::optional<LayerRef>(const LayerRef& stored, const fs::path& file)>;

// The OCI form of a stored manifest: as stored when it is OCI's, else
// Docker's schema 2 with the OCI media types (the same blobs).
std::string oci_manifest_text(const std::string& stored, json manifest) {
  std::string type = manifest.value("mediaType", std::string(kOciManifest));
  if (type == kOciManifest) return stored;
  manifest["mediaType"] = kOciManifest;
  if (manifest.contains("config")) manifest["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json";
  for (auto& l : manifest["layers"]) {
    std::string t = l.value("mediaType", "");
    if (t == "application/vnd.docker.image.rootfs.diff.tar.gzip")
      l["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip";
    else if (t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
      l["mediaType"] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    else if (t == "application/vnd.docker.image.rootfs.diff.tar")
      l["mediaType"] = "application/vnd.oci.image.layer.v1.tar";
  }
  return manifest.dump();
}

// "alpine:latest", "quay.io/x/y:1": what docker's RepoTags say.
std::string familiar_tag(const std::string& full) {
  Reference r = parse_reference(full);
  return r.familiar_name() + ":" + r.tag;
}

Layout build_layout(const ImageStore& store, const std::vector<SavedImage>& images, ArchiveFormat format,
                    const Recompress& recompress) {
  json index{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", json::array()}};
  json docker = json::array();
  json repositories = json::object();
  std::vector<OutFile> small, layers;
  std::set<std::string> seen;
  auto add_text = [&](const std::string& digest, std::string text) {
    if (seen.insert(digest).second) small.push_back({blob_entry_name(digest), std::move(text), {}, 0});
  };
  for (const auto& si : images) {
    ImageContent content = store.load(si.record);
    std::vector<LayerRef> refs = image_layers(content);
    json manifest = content.manifest;
    for (size_t i = 0; i < refs.size(); ++i) {
      fs::path file = store.blob_path(refs[i].digest);
      struct stat st {};
      if (stat(file.c_str(), &st) != 0)
        throw Error(fmt::format("blob {} is missing from the store", refs[i].digest), 0,
                    "the image is damaged: remove it with skiff rmi -f and import or pull it again");
      std::optional<LayerRef> changed = recompress ? recompress(refs[i], file) : std::nullopt;
      if (changed) {
        manifest["layers"][i]["digest"] = changed->digest;
        manifest["layers"][i]["size"] = changed->size;
        manifest["layers"][i]["mediaType"] = changed->media_type;
        refs[i] = *changed;
        seen.insert(changed->digest);
        continue;
      }
      if (seen.insert(refs[i].digest).second)
        layers.push_back({blob_entry_name(refs[i].digest), {}, file, static_cast<uint64_t>(st.st_size)});
    }
    std::string stored_manifest = store.read_blob(si.record.manifest);
    std::string manifest_text =
        oci_manifest_text(manifest == content.manifest ? stored_manifest : manifest.dump(), manifest);
    std::string manifest_digest = sha256_digest(manifest_text);
    add_text(si.record.id, store.read_blob(si.record.id));
    add_text(manifest_digest, manifest_text);

    json desc{{"mediaType", kOciManifest}, {"digest", manifest_digest}, {"size", manifest_text.size()}};
    if (si.names.empty()) index["manifests"].push_back(desc);
    for (const auto& n : si.names) {
      json named = desc;
      named["annotations"] = {{"org.opencontainers.image.ref.name", n}, {"io.containerd.image.name", n}};
      index["manifests"].push_back(named);
    }
    json tags = json::array();
    for (const auto& n : si.names) {
      tags.push_back(familiar_tag(n));
      Reference r = parse_reference(n);
      if (!refs.empty()) repositories[r.familiar_name()][r.tag] = digest_hex(refs.back().digest);
    }
    json layer_names = json::array();
    for (const auto& r : refs) layer_names.push_back(blob_entry_name(r.digest));
    docker.push_back({{"Config", blob_entry_name(si.record.id)},
                      {"RepoTags", si.names.empty() ? json(nullptr) : tags},
                      {"Layers", layer_names}});
  }
  Layout out;
  if (format == ArchiveFormat::kDockerArchive) {
    out.files.push_back({"manifest.json", docker.dump(), {}, 0});
    out.files.push_back({"repositories", repositories.dump(), {}, 0});
  }
  out.files.push_back({"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", {}, 0});
  out.files.push_back({"index.json", index.dump(), {}, 0});
  for (auto& f : small) out.files.push_back(std::move(f));
  for (auto& f : layers) out.files.push_back(std::move(f));
  return out;
}

// Copies size bytes of in to out where each one stands: copy_file_range
// between files, sendfile into a pipe, read and write when neither will.
void copy_fd(int in, int out, uint64_t size, const std::string& what) {
  bool use_range = true, use_sendfile = true;
  std::string buf;
  for (uint64_t left = size; left > 0;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, 1u << 30));
    ssize_t n;
    if (use_range) {
      n = copy_file_range(in, nullptr, out, nullptr, want, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EBADF || errno == EOPNOTSUPP)) {
        use_range = false;
        continue;
      }
    } else if (use_sendfile) {
      n = sendfile(out, in, nullptr, want);
      if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
        use_sendfile = false;
        continue;
      }
    } else {
      if (buf.empty()) buf.resize(1 << 20);
      n = ::read(in, buf.data(), std::min(want, buf.size()));
      if (n > 0) write_all(out, std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(fmt::format("write {}", what));
    if (n == 0) throw Error(fmt::format("write {}: the blob ended {} bytes early", what, left));
    left -= static_cast<uint64_t>(n);
  }
}

}  // namespace

void write_image_archive(const ImageStore& store, const std::vector<SavedImage>& images, ArchiveFormat format,
                         int out) {
  Layout layout = build_layout(store, images, format, nullptr);
  TarWriter tar([out](std::string_view data) { write_all(out, data); });
  int64_t now = time(nullptr);
  tar.add({.name = "blobs/", .type = TarEntry::Type::kDir, .mode = 0755, .mtime = now});
  tar.add({.name = "blobs/sha256/", .type = TarEntry::Type::kDir, .mode = 0755, .mtime = now});
  for (const auto& f : layout.files) {
    uint64_t size = f.file.empty() ? f.text.size() : f.size;
    tar.add({.name = f.name, .mode = 0644, .size = size, .mtime = now});
    if (f.file.empty()) {
      tar.data(f.text);
      continue;
    }
    UniqueFd in = open_or_throw(f.file, O_RDONLY);
    copy_fd(in.get(), out, size, "the archive");
    tar.sent(size);
  }
  tar.finish();
}

void write_image_dir(const ImageStore& store, const std::vector<SavedImage>& images, const fs::path& dir,
                     bool compress) {
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno != EEXIST) throw_errno(fmt::format("create {}", dir.string()));
    if (!fs::is_directory(dir)) throw Error(fmt::format("{} exists and is not a directory", dir.string()));
    if (!fs::is_empty(dir)) throw Error(fmt::format("{} exists and is not empty", dir.string()));
  }
  fs::path blobs = dir / "blobs" / "sha256";
  make_dirs(blobs, 0755);
  size_t scratch = 0;
  // Gzip (isa-l) of a layer stored uncompressed, hashed as it is written.
  Recompress gzip = [&](const LayerRef& l, const fs::path& file) -> std::optional<LayerRef> {
    if (l.media_type != "application/vnd.oci.image.layer.v1.tar" &&
        l.media_type != "application/vnd.docker.image.rootfs.diff.tar")
      return std::nullopt;
    fs::path tmp = blobs / fmt::format(".compress-{}", ++scratch);
    UniqueFd out = open_or_throw(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct HashFile : ByteSink {
      int fd;
      Sha256 hash;
      uint64_t size = 0;
      void write(std::string_view d) override {
        hash.update(d);
        write_all(fd, d);
        size += d.size();
      }
    } sink;
    sink.fd = out.get();
    std::unique_ptr<ByteSink> gz = isal_gzip(sink);
    if (!gz) {
      ::unlink(tmp.c_str());
      return std::nullopt;  // no isa-l: the layer stays as it is
    }
    UniqueFd in = open_or_throw(file, O_RDONLY);
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(in.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno(fmt::format("read {}", file.string()));
      if (n == 0) break;
      gz->write(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    gz->finish();
    std::string digest = sink.hash.finish();
    if (::rename(tmp.c_str(), (blobs / digest_hex(digest)).c_str()) != 0) throw_errno("store a compressed layer");
    return LayerRef{l.diff_id, digest, "application/vnd.oci.image.layer.v1.tar+gzip", sink.size};
  };
  Layout layout = build_layout(store, images, ArchiveFormat::kOciDir, compress ? gzip : Recompress());
  for (const auto& f : layout.files) {
    fs::path target = dir / f.name;
    UniqueFd out = open_or_throw(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f.file.empty()) {
      write_all(out.get(), f.text);
      continue;
    }
    UniqueFd in = open_or_throw(f.file, O_RDONLY);
    copy_fd(in.get(), out.get(), f.size, target.string());
  }
}

}  // namespace skiff::image
