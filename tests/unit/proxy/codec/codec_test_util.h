// Helpers shared by the codec tests: feeding frames byte by byte, walking buffers
// of several frames, and checking that a decoder rejects every truncation.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/codec/frame.h"
#include "proxy/codec/messages.h"

namespace pgshim::proxy::codec::test {

inline constexpr std::uint32_t kMaxLength = 1 << 20;

// A heap copy of exactly `bytes.size()` bytes, so that a sanitizer build reports
// any read past the end (a std::string may keep short text inline, with slack).
class ExactBuffer {
 public:
  explicit ExactBuffer(std::string_view bytes)
      : data_(std::make_unique<char[]>(bytes.size() + (bytes.empty() ? 1 : 0))),
        size_(bytes.size()) {
    if (!bytes.empty()) std::copy(bytes.begin(), bytes.end(), data_.get());
  }
  [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

// Feeds every prefix of the single frame `frame` to decode_header and decode_frame:
// the header is kIncomplete below 5 bytes, the frame is kIncomplete until its last
// byte arrives. Returns the body the whole frame decodes to (a view into `frame`).
inline std::string_view body_split_everywhere(Direction direction, std::string_view frame) {
  for (std::size_t n = 0; n < frame.size(); ++n) {
    const ExactBuffer prefix(frame.substr(0, n));
    Header header;
    std::string_view body;
    std::string error;
    EXPECT_EQ(decode_header(direction, prefix.view(), kMaxLength, header, error),
              n < kHeaderSize ? DecodeStatus::kIncomplete : DecodeStatus::kOk)
        << "prefix of " << n << " bytes: " << error;
    EXPECT_EQ(decode_frame(direction, prefix.view(), kMaxLength, header, body, error),
              DecodeStatus::kIncomplete)
        << "prefix of " << n << " bytes: " << error;
  }
  Header header;
  std::string_view body;
  std::string error;
  EXPECT_EQ(decode_frame(direction, frame, kMaxLength, header, body, error), DecodeStatus::kOk)
      << error;
  EXPECT_EQ(header.type, frame.empty() ? 0 : frame[0]);
  EXPECT_EQ(header.frame_size(), frame.size());
  return body;
}

struct Frame {
  char type = 0;
  std::string_view body;
};

// Splits a buffer holding several whole frames, expecting each to be well-formed.
inline std::vector<Frame> split_frames(Direction direction, std::string_view bytes) {
  std::vector<Frame> frames;
  while (!bytes.empty()) {
    Header header;
    Frame frame;
    std::string error;
    const DecodeStatus status =
        decode_frame(direction, bytes, kMaxLength, header, frame.body, error);
    EXPECT_EQ(status, DecodeStatus::kOk) << error;
    if (status != DecodeStatus::kOk) break;
    frame.type = header.type;
    frames.push_back(frame);
    bytes.remove_prefix(header.frame_size());
  }
  return frames;
}

// Feeds every prefix of `bytes`, a buffer of whole frames, to decode_frame as a
// reader would see it arrive: exactly the frames wholly inside the prefix decode,
// in order, and what follows them is kIncomplete. `types` lists the frame types.
inline void expect_frames_split_everywhere(Direction direction, std::string_view bytes,
                                           std::string_view types) {
  std::vector<std::size_t> ends;
  std::size_t end = 0;
  for (const Frame& frame : split_frames(direction, bytes)) {
    end += kHeaderSize + frame.body.size();
    ends.push_back(end);
  }
  ASSERT_EQ(ends.size(), types.size());
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    const ExactBuffer prefix(bytes.substr(0, split));
    std::string_view rest = prefix.view();
    std::string seen;
    Header header;
    std::string_view body;
    std::string error;
    DecodeStatus status;
    while ((status = decode_frame(direction, rest, kMaxLength, header, body, error)) ==
           DecodeStatus::kOk) {
      seen.push_back(header.type);
      rest.remove_prefix(header.frame_size());
    }
    EXPECT_EQ(status, DecodeStatus::kIncomplete) << "split at " << split << ": " << error;
    const auto whole = static_cast<std::size_t>(
        std::count_if(ends.begin(), ends.end(), [&](std::size_t e) { return e <= split; }));
    EXPECT_EQ(seen, types.substr(0, whole)) << "split at " << split;
  }
}

// Decodes `body` as M and expects success.
template <typename M>
M decode_ok(std::string_view body) {
  M message;
  std::string error;
  EXPECT_EQ(M::decode(body, message, error), DecodeStatus::kOk) << error;
  return message;
}

// Decodes `body` as M and expects kMalformed; returns the error sentence.
template <typename M>
std::string decode_error(std::string_view body) {
  const ExactBuffer buffer(body);
  M message;
  std::string error;
  EXPECT_EQ(M::decode(buffer.view(), message, error), DecodeStatus::kMalformed);
  EXPECT_FALSE(error.empty());
  return error;
}

// Every proper prefix of the valid body `body`, and `body` followed by one extra
// byte, must be kMalformed with an error: no decoder may read past the end or
// accept a truncated or padded body.
template <typename M>
void expect_rejects_truncation_and_padding(std::string_view body) {
  for (std::size_t n = 0; n < body.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    decode_error<M>(body.substr(0, n));
  }
  SCOPED_TRACE("one trailing byte");
  decode_error<M>(std::string(body) + 'x');
}

// The body of an encoded message (without its 5-byte header).
inline std::string_view body_of(std::string_view frame) { return frame.substr(kHeaderSize); }

}  // namespace pgshim::proxy::codec::test
