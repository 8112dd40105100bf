// Bounds-checked sequential reader over one message body, private to the codec.
//
// Every read either succeeds entirely inside the body or records in `error` why
// the body is malformed and returns false, so that the decoders read as straight
// line code chained with && and never do index arithmetic of their own. The reader
// never reads outside the body and never allocates unless it reports an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "proxy/codec/frame.h"

namespace pgshim::proxy::codec::detail {

// A byte as it should appear in an error sentence: 'Q' when printable, 0x01 otherwise.
[[nodiscard]] std::string quote_byte(char c);

class BodyReader {
 public:
  // `message` names what is read in error sentences ("Bind message").
  BodyReader(std::string_view body, std::string_view message, std::string& error)
      : body_(body), message_(message), error_(error) {}

  [[nodiscard]] std::size_t remaining() const { return body_.size() - pos_; }

  [[nodiscard]] bool read_u8(std::uint8_t& v, std::string_view what) {
    if (remaining() < 1) return truncated(what);
    v = static_cast<std::uint8_t>(body_[pos_++]);
    return true;
  }
  [[nodiscard]] bool read_u16(std::uint16_t& v, std::string_view what) {
    if (remaining() < 2) return truncated(what);
    v = codec::read_u16(body_.data() + pos_);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool read_i16(std::int16_t& v, std::string_view what) {
    std::uint16_t u = 0;
    if (!read_u16(u, what)) return false;
    v = static_cast<std::int16_t>(u);
    return true;
  }
  [[nodiscard]] bool read_u32(std::uint32_t& v, std::string_view what) {
    if (remaining() < 4) return truncated(what);
    v = codec::read_u32(body_.data() + pos_);
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool read_i32(std::int32_t& v, std::string_view what) {
    std::uint32_t u = 0;
    if (!read_u32(u, what)) return false;
    v = static_cast<std::int32_t>(u);
    return true;
  }

  // A NUL-terminated string; the view excludes the terminator.
  [[nodiscard]] bool read_string(std::string_view& v, std::string_view what) {
    if (remaining() == 0) return unterminated(what);  // memchr on an empty range may get null
    const char* start = body_.data() + pos_;
    const void* nul = std::memchr(start, '\0', remaining());
    if (nul == nullptr) return unterminated(what);
    const auto size = static_cast<std::size_t>(static_cast<const char*>(nul) - start);
    v = std::string_view(start, size);
    pos_ += size + 1;
    return true;
  }

  [[nodiscard]] bool read_bytes(std::size_t n, std::string_view& v, std::string_view what) {
    if (remaining() < n) return too_long(what, n);
    v = body_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  // A 16-bit count of items that take at least `min_item_size` bytes each. Checking
  // the count against the bytes left before trusting it keeps a hostile count from
  // driving a large reserve() or a long loop.
  [[nodiscard]] bool read_count(std::size_t min_item_size, std::uint16_t& count,
                                std::string_view what) {
    if (!read_u16(count, what)) return false;
    if (std::size_t{count} * min_item_size > remaining()) {
      return count_too_large(what, count, min_item_size);
    }
    return true;
  }

  // True when the whole body has been consumed.
  [[nodiscard]] bool finish() {
    if (remaining() == 0) return true;
    return trailing();
  }

  // Records `reason` as the error and returns false.
  bool fail(std::string_view reason);

 private:
  bool truncated(std::string_view what);
  bool unterminated(std::string_view what);
  bool too_long(std::string_view what, std::size_t n);
  bool count_too_large(std::string_view what, std::uint16_t count, std::size_t min_item_size);
  bool trailing();

  std::string_view body_;
  std::size_t pos_ = 0;
  std::string_view message_;
  std::string& error_;
};

[[nodiscard]] inline DecodeStatus to_status(bool ok) {
  return ok ? DecodeStatus::kOk : DecodeStatus::kMalformed;
}

}  // namespace pgshim::proxy::codec::detail
