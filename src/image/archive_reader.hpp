// A libarchive read handle that frees itself, and how skiff reads its results.
#pragma once

#include <archive.h>

#include <memory>
#include <string_view>

#include "skiff/util/error.hpp"

namespace skiff::image {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// archive_read_new()'s handle, owned.
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

// archive_read_next_header gave a header skiff can use: ARCHIVE_WARN (a pax
// record libarchive ignored) is fine; ARCHIVE_RETRY is a header that failed
// its checksum, whose entry has no name: libarchive would go on looking for
// a later header that passes, and what a damaged tar holds is not to be
// guessed at.
inline bool header_is_whole(int r) {
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

// The error for a damaged header after the entry `last` ("" at the start).
inline Error damaged_header(archive* a, std::string_view last) {
  const char* why = archive_error_string(a);
  if (last.empty()) return Error(fmt::format("invalid tar header: {}", why ? why : "damaged"));
  return Error(fmt::format("invalid tar header after entry {:?}: {}", last, why ? why : "damaged"));
}

}  // namespace skiff::image
