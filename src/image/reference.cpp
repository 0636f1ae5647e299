#include "skiff/image/reference.hpp"

#include <algorithm>
#include <cctype>

#include "skiff/image/digest.hpp"
#include "skiff/util/error.hpp"

namespace skiff::image {

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(t[0])) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  return std::all_of(c.begin(), c.end(), [](char x) { return is_alnum(x) || x == '-'; });
}

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
  throw Error(fmt::format("invalid reference format: {:?}: {}", std::string(text), why));
}

Reference parse(std::string_view text, bool default_tag) {
  if (text.empty()) invalid(text, "empty");
  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!is_valid_digest(ref.digest)) invalid(text, "bad digest");
  }
  // A tag follows the last ':' that comes after the last '/'.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!valid_tag(ref.tag)) invalid(text, "bad tag");
  }
  size_t first_slash = rest.find('/');
  std::string_view first = rest.substr(0, first_slash);
  if (first_slash != std::string_view::npos &&
      (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos || first == "localhost" ||
       first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos)) {
    if (!is_valid_registry_host(first))
      invalid(text, fmt::format("{:?} is not a registry host name ({})", std::string(first), kRegistryHostRule));
    ref.domain = std::string(first);
    rest = rest.substr(first_slash + 1);
  } else {
    ref.domain = std::string(kDefaultDomain);
  }
  if (ref.domain == "index.docker.io") ref.domain = std::string(kDefaultDomain);
  if (rest.empty()) invalid(text, "no repository name");
  for (size_t start = 0;;) {
    size_t end = rest.find('/', start);
    std::string_view comp = rest.substr(start, end == std::string_view::npos ? end : end - start);
    if (!valid_component(comp))
      invalid(text, comp.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos
                        ? "repository name must be lowercase"
                        : "bad repository name");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.path = std::string(rest);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
  if (ref.name().size() > 255) invalid(text, "repository name too long");
  if (default_tag && ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace

// distribution/reference's grammar (reference.go):
//   domain      := host [':' port-number]
//   host        := domain-name | IPv4address | '[' IPv6address ']'
//   domain-name := domain-component ('.' domain-component)*
// (an IPv4 address is a domain-name too). The host names a directory
// (certs.d/<host>/), so "..", "." and the like must never pass.
bool is_valid_registry_host(std::string_view host) {
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view ip6 = host.substr(1, close - 1);
    auto ip6_char = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'; };
    if (!std::all_of(ip6.begin(), ip6.end(), ip6_char)) return false;
    host = host.substr(close + 1);
    if (host.empty()) return true;
    if (host.front() != ':') return false;
  } else {
    size_t colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    for (size_t start = 0;;) {
      size_t dot = name.find('.', start);
      std::string_view component = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (!valid_domain_component(component)) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (colon == std::string_view::npos) return true;
    host = host.substr(colon);
  }
  std::string_view port = host.substr(1);  // after the ':'
  return !port.empty() && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string familiar_name(std::string_view full) {
  std::string s(full);
  // "library/" goes only from a name of one component, as docker's
  // familiarizeName does: docker.io/library/a/b is not docker.io/a/b.
  if (s.rfind("docker.io/library/", 0) == 0 && s.find('/', 18) == std::string::npos) return s.substr(18);
  if (s.rfind("docker.io/", 0) == 0) return s.substr(10);
  return s;
}

std::string Reference::familiar_name() const {
  return image::familiar_name(name());
}

Reference parse_reference(std::string_view text) {
  return parse(text, true);
}
Reference parse_reference_no_default_tag(std::string_view text) {
  return parse(text, false);
}

}  // namespace skiff::image
