#include "skiff/util/error.hpp"

#include <cstring>

namespace skiff {

std::string Error::errno_text(int err) {
  // strerror_r in GNU form returns the text; lower-case the first letter to read
  // as the tail of a sentence ("open x: no such file or directory").
  char buf[256];
  std::string text = strerror_r(err, buf, sizeof buf);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' && !(text.size() > 1 && text[1] >= 'A' && text[1] <= 'Z'))
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

}  // namespace skiff
