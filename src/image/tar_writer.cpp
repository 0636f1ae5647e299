#include "skiff/image/tar_writer.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "skiff/util/error.hpp"

namespace skiff::image {

namespace {

constexpr size_t kBlock = 512;

// Writes value as a NUL-terminated octal field of width w; false if it does not fit.
bool put_octal(char* field, size_t w, uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, w - 1);
  if (digits.size() > w - 1) return false;
  memcpy(field, digits.data(), digits.size());
  field[w - 1] = '\0';
  return true;
}

// One pax record: "LEN key=value\n", LEN counting itself.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t body = key.size() + value.size() + 3;  // space, '=', newline
  size_t len = body + 1;
  while (std::to_string(len).size() + body > len) ++len;
  return fmt::format("{} {}={}\n", len, key, value);
}

// Splits a long name into ustar's prefix and name fields, if it can.
bool split_ustar_name(std::string_view path, std::string_view& prefix, std::string_view& name) {
  if (path.size() <= 100) {
    prefix = {};
    name = path;
    return true;
  }
  if (path.size() > 256) return false;
  // The split must fall on a "/" with at most 155 bytes before and 100 after.
  for (size_t i = std::min<size_t>(155, path.size() - 1); i > 0; --i) {
    if (path[i] != '/') continue;
    if (path.size() - i - 1 > 100) return false;
    prefix = path.substr(0, i);
    name = path.substr(i + 1);
    return !name.empty();
  }
  return false;
}

}  // namespace

void TarWriter::header(const TarEntry& e, std::string_view name_field, std::string_view link, char type,
                       uint64_t size) {
  std::array<char, kBlock> h{};
  std::string_view prefix, name;
  if (!split_ustar_name(name_field, prefix, name)) name = name_field.substr(0, 100);
  memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  put_octal(h.data() + 100, 8, e.mode & 07777);
  if (!put_octal(h.data() + 108, 8, e.uid)) put_octal(h.data() + 108, 8, 0);
  if (!put_octal(h.data() + 116, 8, e.gid)) put_octal(h.data() + 116, 8, 0);
  if (!put_octal(h.data() + 124, 12, size)) put_octal(h.data() + 124, 12, 0);
  put_octal(h.data() + 136, 12, static_cast<uint64_t>(std::max<int64_t>(e.mtime, 0)));
  h[156] = type;
  memcpy(h.data() + 157, link.data(), std::min<size_t>(link.size(), 100));
  memcpy(h.data() + 257,
         "ustar\0"
         "00",
         8);
  if (e.type == TarEntry::Type::kChar || e.type == TarEntry::Type::kBlock) {
    put_octal(h.data() + 329, 8, e.devmajor);
    put_octal(h.data() + 337, 8, e.devminor);
  }
  memcpy(h.data() + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
  memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  fmt::format_to_n(h.data() + 148, 7, "{:06o}", sum);
  h[154] = '\0';
  sink_(std::string_view(h.data(), h.size()));
}

void TarWriter::add(const TarEntry& e) {
  if (left_ != 0) throw Error(fmt::format("tar entry before {} owed bytes of the previous file", left_));
  pad();
  std::string pax;
  std::string_view prefix, name;
  if (!split_ustar_name(e.name, prefix, name)) pax += pax_record("path", e.name);
  if (e.linkname.size() > 100) pax += pax_record("linkpath", e.linkname);
  if (e.uid > 07777777) pax += pax_record("uid", std::to_string(e.uid));
  if (e.gid > 07777777) pax += pax_record("gid", std::to_string(e.gid));
  if (e.size > 077777777777ULL) pax += pax_record("size", std::to_string(e.size));
  for (const auto& [k, v] : e.xattrs) pax += pax_record("SCHILY.xattr." + k, v);
  if (!pax.empty()) {
    TarEntry ph;
    ph.mode = 0644;
    std::string pax_name = "PaxHeaders/" + e.name.substr(0, 80);
    header(ph, pax_name, {}, 'x', pax.size());
    sink_(pax);
    written_ = pax.size();
    pad();
  }
  header(e, e.name, e.linkname, static_cast<char>(e.type), e.type == TarEntry::Type::kFile ? e.size : 0);
  left_ = e.type == TarEntry::Type::kFile ? e.size : 0;
  written_ = 0;
}

void TarWriter::data(std::string_view bytes) {
  if (bytes.size() > left_) throw Error("tar file content longer than its header said");
  left_ -= bytes.size();
  written_ += bytes.size();
  sink_(bytes);
}

void TarWriter::sent(uint64_t n) {
  if (n > left_) throw Error("tar file content longer than its header said");
  left_ -= n;
  written_ += n;
}

void TarWriter::pad() {
  static const std::array<char, kBlock> zeros{};
  if (size_t rest = written_ % kBlock) sink_(std::string_view(zeros.data(), kBlock - rest));
  written_ = 0;
}

void TarWriter::finish() {
  if (left_ != 0) throw Error(fmt::format("tar archive ended {} bytes short of its last file", left_));
  pad();
  static const std::array<char, 2 * kBlock> zeros{};
  sink_(std::string_view(zeros.data(), zeros.size()));
}

}  // namespace skiff::image
