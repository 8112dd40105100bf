#include "proxy/codec/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/unit/proxy/codec/codec_test_util.h"

namespace pgshim::proxy::codec {
namespace {

using namespace std::literals;
using test::kMaxLength;

// The 5-byte header of a message of `type` with `length`.
std::string header_bytes(char type, std::uint32_t length) {
  std::string out(1, type);
  append_u32(out, length);
  return out;
}

DecodeStatus header_status(Direction direction, char type, std::uint32_t length,
                           std::string* error_out = nullptr,
                           std::uint32_t max_length = kMaxLength) {
  Header header;
  std::string error;
  const DecodeStatus status =
      decode_header(direction, header_bytes(type, length), max_length, header, error);
  if (status == DecodeStatus::kMalformed) {
    EXPECT_FALSE(error.empty());
  }
  if (error_out != nullptr) *error_out = error;
  return status;
}

constexpr std::string_view kFrontendTypes = "QPBEDCHSXFdcfp";
constexpr std::string_view kBackendTypes = "RKSZTDCENA123nsItGHWdcVv";

TEST(BigEndian, AppendAndReadRoundTrip) {
  std::string out;
  append_u32(out, 0x01020304u);
  append_u16(out, 0xfffeu);
  append_u32(out, 0xfffffffeu);
  EXPECT_EQ(out, "\x01\x02\x03\x04\xff\xfe\xff\xff\xff\xfe"sv);
  EXPECT_EQ(read_u32(out.data()), 0x01020304u);
  EXPECT_EQ(read_u16(out.data() + 4), 0xfffeu);
  EXPECT_EQ(read_u32(out.data() + 6), 0xfffffffeu);
}

TEST(BeginFinishMessage, PatchesLengthWithoutTypeByte) {
  std::string out = "prefix";
  const std::size_t start = begin_message(out, 'Q');
  out += "SELECT 1"sv;
  out.push_back('\0');
  finish_message(out, start);
  EXPECT_EQ(out, "prefix" "Q" "\x00\x00\x00\x0d" "SELECT 1\0"sv);
}

TEST(DecodeHeader, IncompleteBelowFiveBytes) {
  const std::string frame = "Z" "\x00\x00\x00\x05" "I"s;
  for (std::size_t n = 0; n < kHeaderSize; ++n) {
    Header header;
    std::string error;
    EXPECT_EQ(decode_header(Direction::kBackend, std::string_view(frame).substr(0, n), kMaxLength,
                            header, error),
              DecodeStatus::kIncomplete);
  }
}

TEST(DecodeHeader, ReadsTypeAndLength) {
  Header header;
  std::string error;
  ASSERT_EQ(decode_header(Direction::kFrontend, "Q" "\x00\x01\x02\x03"sv, kMaxLength, header,
                          error),
            DecodeStatus::kOk);
  EXPECT_EQ(header.type, 'Q');
  EXPECT_EQ(header.length, 0x00010203u);
  EXPECT_EQ(header.body_size(), 0x00010203u - 4);
  EXPECT_EQ(header.frame_size(), 0x00010203u + 1);
}

// Every one of the 256 type bytes: accepted exactly when the direction may send it.
TEST(DecodeHeader, AcceptsExactlyTheTypesOfEachDirection) {
  for (int b = 0; b < 256; ++b) {
    const char type = static_cast<char>(b);
    SCOPED_TRACE("type byte " + std::to_string(b));
    const bool frontend = type != '\0' && kFrontendTypes.find(type) != std::string_view::npos;
    const bool backend = type != '\0' && kBackendTypes.find(type) != std::string_view::npos;
    // Exact-length types are accepted only at their length; 64 suits all others.
    const auto accepted = [type](Direction d) {
      for (std::uint32_t length : {4u, 5u, 12u, 64u}) {
        if (header_status(d, type, length) == DecodeStatus::kOk) return true;
      }
      return false;
    };
    EXPECT_EQ(accepted(Direction::kFrontend), frontend);
    EXPECT_EQ(accepted(Direction::kBackend), backend);
  }
}

TEST(DecodeHeader, UnknownTypeErrorNamesDirectionAndByte) {
  std::string error;
  EXPECT_EQ(header_status(Direction::kFrontend, 'Z', 5, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid frontend message type 'Z'");
  EXPECT_EQ(header_status(Direction::kBackend, 'p', 8, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid backend message type 'p'");
  EXPECT_EQ(header_status(Direction::kBackend, '\x01', 8, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid backend message type 0x01");
  EXPECT_EQ(header_status(Direction::kFrontend, '\xff', 8, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid frontend message type 0xff");
}

TEST(DecodeHeader, LengthBelowFourIsMalformed) {
  std::string error;
  for (std::uint32_t length = 0; length < 4; ++length) {
    EXPECT_EQ(header_status(Direction::kFrontend, 'd', length), DecodeStatus::kMalformed);
    EXPECT_EQ(header_status(Direction::kBackend, 'd', length), DecodeStatus::kMalformed);
  }
  EXPECT_EQ(header_status(Direction::kFrontend, 'Q', 3, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid message length 3 for message type 'Q'");
}

TEST(DecodeHeader, LengthBelowTypeMinimumIsMalformed) {
  struct Case {
    Direction direction;
    char type;
    std::uint32_t too_short;
    std::uint32_t minimum;
  };
  const Case cases[] = {
      {Direction::kFrontend, 'Q', 4, 5},  {Direction::kFrontend, 'P', 7, 8},
      {Direction::kFrontend, 'B', 11, 12}, {Direction::kFrontend, 'E', 8, 9},
      {Direction::kFrontend, 'D', 5, 6},  {Direction::kFrontend, 'C', 5, 6},
      {Direction::kFrontend, 'F', 13, 14}, {Direction::kFrontend, 'f', 4, 5},
      {Direction::kBackend, 'R', 7, 8},   {Direction::kBackend, 'S', 5, 6},
      {Direction::kBackend, 'T', 5, 6},   {Direction::kBackend, 'D', 5, 6},
      {Direction::kBackend, 'C', 4, 5},   {Direction::kBackend, 'E', 4, 5},
      {Direction::kBackend, 'N', 4, 5},   {Direction::kBackend, 'A', 9, 10},
      {Direction::kBackend, 't', 5, 6},   {Direction::kBackend, 'G', 6, 7},
      {Direction::kBackend, 'H', 6, 7},   {Direction::kBackend, 'W', 6, 7},
      {Direction::kBackend, 'V', 7, 8},   {Direction::kBackend, 'v', 11, 12},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("type ") + c.type);
    std::string error;
    EXPECT_EQ(header_status(c.direction, c.type, c.too_short, &error), DecodeStatus::kMalformed);
    EXPECT_EQ(error, "invalid message length " + std::to_string(c.too_short) +
                         " for message type '" + c.type + "'");
    EXPECT_EQ(header_status(c.direction, c.type, c.minimum), DecodeStatus::kOk);
    EXPECT_EQ(header_status(c.direction, c.type, c.minimum + 100), DecodeStatus::kOk);
  }
}

TEST(DecodeHeader, ExactLengthTypesRejectAnyOtherLength) {
  struct Case {
    Direction direction;
    char type;
    std::uint32_t length;
  };
  const Case cases[] = {
      {Direction::kFrontend, 'S', 4}, {Direction::kFrontend, 'H', 4},
      {Direction::kFrontend, 'X', 4}, {Direction::kFrontend, 'c', 4},
      {Direction::kBackend, 'Z', 5},  {Direction::kBackend, 'K', 12},
      {Direction::kBackend, '1', 4},  {Direction::kBackend, '2', 4},
      {Direction::kBackend, '3', 4},  {Direction::kBackend, 'n', 4},
      {Direction::kBackend, 's', 4},  {Direction::kBackend, 'I', 4},
      {Direction::kBackend, 'c', 4},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("type ") + c.type);
    EXPECT_EQ(header_status(c.direction, c.type, c.length), DecodeStatus::kOk);
    EXPECT_EQ(header_status(c.direction, c.type, c.length - 1), DecodeStatus::kMalformed);
    EXPECT_EQ(header_status(c.direction, c.type, c.length + 1), DecodeStatus::kMalformed);
  }
  std::string error;
  EXPECT_EQ(header_status(Direction::kBackend, 'Z', 6, &error), DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid message length 6 for message type 'Z'");
}

// 'S', 'H', 'D', 'C', 'E', 'd', 'c' mean different messages in each direction.
TEST(DecodeHeader, SharedTypeBytesFollowTheirDirection) {
  EXPECT_EQ(header_status(Direction::kFrontend, 'S', 24), DecodeStatus::kMalformed);  // Sync
  EXPECT_EQ(header_status(Direction::kBackend, 'S', 24), DecodeStatus::kOk);  // ParameterStatus
  EXPECT_EQ(header_status(Direction::kFrontend, 'H', 7), DecodeStatus::kMalformed);  // Flush
  EXPECT_EQ(header_status(Direction::kBackend, 'H', 7), DecodeStatus::kOk);  // CopyOutResponse
  EXPECT_EQ(header_status(Direction::kBackend, 'H', 4), DecodeStatus::kMalformed);
  EXPECT_EQ(header_status(Direction::kFrontend, 'H', 4), DecodeStatus::kOk);
  EXPECT_EQ(header_status(Direction::kBackend, 'E', 5), DecodeStatus::kOk);  // ErrorResponse
  EXPECT_EQ(header_status(Direction::kFrontend, 'E', 5), DecodeStatus::kMalformed);  // Execute
}

TEST(DecodeHeader, LengthAboveMaxIsMalformed) {
  std::string error;
  EXPECT_EQ(header_status(Direction::kBackend, 'D', 1000, nullptr, 1000), DecodeStatus::kOk);
  EXPECT_EQ(header_status(Direction::kBackend, 'D', 1001, &error, 1000),
            DecodeStatus::kMalformed);
  EXPECT_EQ(error, "message length 1001 for message type 'D' exceeds the limit of 1000 bytes");
  EXPECT_EQ(header_status(Direction::kFrontend, 'Q', 0xffffffffu, &error),
            DecodeStatus::kMalformed);
  EXPECT_EQ(error, "message length 4294967295 for message type 'Q' exceeds the limit of " +
                       std::to_string(kMaxLength) + " bytes");
  // Even an exact-length type obeys the limit.
  EXPECT_EQ(header_status(Direction::kBackend, 'Z', 5, nullptr, 4), DecodeStatus::kMalformed);
}

TEST(DecodeFrame, SplitAtEveryOffset) {
  const std::string_view frame = "d" "\x00\x00\x00\x09" "hello"sv;
  EXPECT_EQ(test::body_split_everywhere(Direction::kFrontend, frame), "hello");
  const std::string_view empty_body = "1" "\x00\x00\x00\x04"sv;
  EXPECT_EQ(test::body_split_everywhere(Direction::kBackend, empty_body), "");
}

TEST(DecodeFrame, MalformedHeaderIsReportedBeforeTheBodyArrives) {
  Header header;
  std::string_view body;
  std::string error;
  EXPECT_EQ(decode_frame(Direction::kBackend, "Z" "\x00\x00\x00\x07"sv, kMaxLength, header, body,
                         error),
            DecodeStatus::kMalformed);
  EXPECT_EQ(error, "invalid message length 7 for message type 'Z'");
}

TEST(DecodeFrame, SeveralFramesInOneBuffer) {
  const std::string_view bytes =
      "1" "\x00\x00\x00\x04"
      "2" "\x00\x00\x00\x04"
      "D" "\x00\x00\x00\x0b" "\x00\x01" "\x00\x00\x00\x01" "7"
      "C" "\x00\x00\x00\x0d" "SELECT 1\0"
      "Z" "\x00\x00\x00\x05" "I"sv;
  const auto frames = test::split_frames(Direction::kBackend, bytes);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(frames[0].type, '1');
  EXPECT_EQ(frames[0].body, "");
  EXPECT_EQ(frames[1].type, '2');
  EXPECT_EQ(frames[2].type, 'D');
  EXPECT_EQ(frames[2].body, "\x00\x01" "\x00\x00\x00\x01" "7"sv);
  EXPECT_EQ(frames[3].type, 'C');
  EXPECT_EQ(frames[3].body, "SELECT 1\0"sv);
  EXPECT_EQ(frames[4].type, 'Z');
  EXPECT_EQ(frames[4].body, "I");
}

// A buffer cut inside its second frame yields the first frame, then kIncomplete.
TEST(DecodeFrame, PartialSecondFrameIsIncomplete) {
  const std::string_view bytes = "S" "\x00\x00\x00\x04" "Q" "\x00\x00\x00\x0d" "SELE"sv;
  Header header;
  std::string_view body;
  std::string error;
  ASSERT_EQ(decode_frame(Direction::kFrontend, bytes, kMaxLength, header, body, error),
            DecodeStatus::kOk);
  EXPECT_EQ(header.type, 'S');
  EXPECT_EQ(decode_frame(Direction::kFrontend, bytes.substr(header.frame_size()), kMaxLength,
                         header, body, error),
            DecodeStatus::kIncomplete);
  EXPECT_EQ(header.type, 'Q');
}

}  // namespace
}  // namespace pgshim::proxy::codec
