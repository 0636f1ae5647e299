#include "skiff/storage/cp_rules.hpp"

#include "skiff/util/file_io.hpp"

namespace skiff::storage {

CpPath parse_cp_path(std::string_view path) {
  CpPath p;
  p.contents_only = path == "." || path.ends_with("/.");
  p.trailing_slash = p.contents_only || (path.size() > 1 && path.ends_with('/'));
  p.path = clean_path(path);
  if (p.path != "/" && p.path != ".") {
    size_t slash = p.path.rfind('/');
    p.name = slash == std::string::npos ? p.path : p.path.substr(slash + 1);
  }
  // "a/.." names the directory a's parent: its own name is not known here.
  if (p.name == "..") p.name.clear();
  return p;
}

CpTarget cp_target(const CpPath& src, const CpSourceInfo& src_info, const CpPath& dest, const CpDestInfo& dest_info) {
  CpTarget t;
  if (src.trailing_slash && !src_info.is_dir) {
    t.refusal = CpRefusal::kSourceNotDir;
    return t;
  }
  if (dest_info.exists && dest_info.is_dir) {
    t.in_dest = true;
    if (!(src_info.is_dir && src.contents_only)) t.name = src.name;
    return t;
  }
  if (dest_info.exists) {
    if (src_info.is_dir)
      t.refusal = CpRefusal::kDirOntoFile;
    else if (dest.trailing_slash)
      t.refusal = CpRefusal::kDestNotDir;
    else
      t.name = dest.name;
    return t;
  }
  if (dest.trailing_slash && !src_info.is_dir) {
    t.refusal = CpRefusal::kNoSuchDirectory;
    return t;
  }
  t.name = dest.name;
  return t;
}

CpArg split_cp_arg(std::string_view arg) {
  if (arg.starts_with('/')) return {{}, std::string(arg)};
  size_t colon = arg.find(':');
  if (colon == std::string_view::npos || arg.starts_with('.')) return {{}, std::string(arg)};
  return {std::string(arg.substr(0, colon)), std::string(arg.substr(colon + 1))};
}

}  // namespace skiff::storage
