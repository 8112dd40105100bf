#include "proxy/codec/body_reader.h"

namespace pgshim::proxy::codec::detail {

std::string quote_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string{'\'', c, '\''};
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'0', 'x', kHex[u >> 4], kHex[u & 0xf]};
}

bool BodyReader::fail(std::string_view reason) {
  error_ = "invalid ";
  error_ += message_;
  error_ += ": ";
  error_ += reason;
  return false;
}

bool BodyReader::truncated(std::string_view what) {
  return fail(std::string(what) + " is cut short by the end of the message");
}

bool BodyReader::unterminated(std::string_view what) {
  return fail(std::string(what) + " has no terminating zero byte");
}

bool BodyReader::too_long(std::string_view what, std::size_t n) {
  return fail(std::string(what) + " has length " + std::to_string(n) + " but only " +
              std::to_string(remaining()) + " bytes remain");
}

bool BodyReader::count_too_large(std::string_view what, std::uint16_t count,
                                 std::size_t min_item_size) {
  return fail(std::string(what) + " " + std::to_string(count) + " needs at least " +
              std::to_string(std::size_t{count} * min_item_size) + " bytes but only " +
              std::to_string(remaining()) + " remain");
}

bool BodyReader::trailing() {
  const std::size_t n = remaining();
  return fail(std::to_string(n) + (n == 1 ? " unexpected byte" : " unexpected bytes") +
              " after the end");
}

}  // namespace pgshim::proxy::codec::detail
