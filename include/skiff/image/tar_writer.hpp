// Writing tar archives (POSIX pax format) for image layers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skiff::image {

struct TarEntry {
  enum class Type : char {
    kFile = '0',
    kHardlink = '1',
    kSymlink = '2',
    kChar = '3',
    kBlock = '4',
    kDir = '5',
    kFifo = '6',
  };
  std::string name;  // relative, "usr/bin/"; directories end with "/"
  Type type = Type::kFile;
  uint32_t mode = 0644;  // permission bits (and setuid, setgid, sticky)
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;  // kFile only
  int64_t mtime = 0;  // seconds
  std::string linkname;
  uint32_t devmajor = 0, devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // name, value
};

// Writes entries to a sink in 512-byte blocks: a ustar header, preceded by a
// pax header when a field does not fit (long names, big ids or sizes,
// xattrs). Owner names are left empty and only whole seconds are kept, so the
// same tree gives the same bytes.
class TarWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit TarWriter(Sink sink) : sink_(std::move(sink)) {}

  // Starts an entry; a file's content follows with data(), size bytes in all.
  void add(const TarEntry& entry);
  void data(std::string_view bytes);
  // Counts n bytes of content the caller wrote itself to where the sink
  // writes (copy_file_range, sendfile), past the sink.
  void sent(uint64_t n);
  // Pads the last file and writes the end-of-archive blocks.
  void finish();

 private:
  void header(const TarEntry& entry, std::string_view name, std::string_view link, char type, uint64_t size);
  void pad();
  Sink sink_;
  uint64_t left_ = 0;     // content bytes the current file still owes
  uint64_t written_ = 0;  // content bytes of the current file so far
};

}  // namespace skiff::image
