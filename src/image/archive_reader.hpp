// A libarchive read handle that frees itself.
#pragma once

#include <archive.h>

#include <memory>

namespace skiff::image {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// archive_read_new()'s handle, owned.
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

}  // namespace skiff::image
