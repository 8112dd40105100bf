// Text a client chose (user, database, application_name, SQL, a bad option
// value) made safe for one log line: at most `max` bytes, and no control
// character, so that a newline in an application_name or a statement cannot
// start a line that reads like the proxy's own. Whitespace becomes a space,
// other control bytes '?'; bytes of UTF-8 pass unchanged.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace pgshim::proxy {

inline std::string loggable(std::string_view text, std::size_t max = 200) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 3);
  for (const char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\n' || u == '\r' || u == '\t') {
      out.push_back(' ');
    } else if (u < 0x20 || u == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace pgshim::proxy
