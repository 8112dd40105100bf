// RowDescription, ErrorResponse/NoticeResponse, ReadyForQuery, BackendKeyData,
// ParameterStatus and Authentication: hand-built frames, round trips, malformations.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "proxy/codec/messages.h"
#include "tests/unit/proxy/codec/codec_test_util.h"

namespace pgshim::proxy::codec {
namespace {

using namespace std::literals;
using test::body_of;
using test::body_split_everywhere;
using test::decode_error;
using test::decode_ok;
using test::expect_rejects_truncation_and_padding;

constexpr Direction kBe = Direction::kBackend;

template <typename M>
std::string encoded(const M& message) {
  std::string out;
  message.encode(out);
  return out;
}

// --- RowDescription ------------------------------------------------------------

// id int4 and name text of table 16384.
constexpr std::string_view kRowDescriptionFrame =
    "T" "\x00\x00\x00\x32" "\x00\x02"
    "id\0" "\x00\x00\x40\x00" "\x00\x01" "\x00\x00\x00\x17" "\x00\x04" "\xff\xff\xff\xff"
    "\x00\x00"
    "name\0" "\x00\x00\x40\x00" "\x00\x02" "\x00\x00\x00\x19" "\xff\xff" "\xff\xff\xff\xff"
    "\x00\x01"sv;

TEST(RowDescription, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const auto rd = decode_ok<RowDescription>(body_split_everywhere(kBe, kRowDescriptionFrame));
  ASSERT_EQ(rd.fields.size(), 2u);
  EXPECT_EQ(rd.fields[0].name, "id");
  EXPECT_EQ(rd.fields[0].table_oid, 16384u);
  EXPECT_EQ(rd.fields[0].column, 1);
  EXPECT_EQ(rd.fields[0].type_oid, 23u);
  EXPECT_EQ(rd.fields[0].type_size, 4);
  EXPECT_EQ(rd.fields[0].type_modifier, -1);
  EXPECT_EQ(rd.fields[0].format, 0);
  EXPECT_EQ(rd.fields[1].name, "name");
  EXPECT_EQ(rd.fields[1].column, 2);
  EXPECT_EQ(rd.fields[1].type_oid, 25u);
  EXPECT_EQ(rd.fields[1].type_size, -1);
  EXPECT_EQ(rd.fields[1].format, 1);
}

TEST(RowDescription, RoundTrip) {
  const auto rd = decode_ok<RowDescription>(body_of(kRowDescriptionFrame));
  EXPECT_EQ(encoded(rd), kRowDescriptionFrame);
  RowDescription none;
  const std::string empty = encoded(none);
  EXPECT_EQ(empty, "T" "\x00\x00\x00\x06" "\x00\x00"sv);
  EXPECT_TRUE(decode_ok<RowDescription>(body_split_everywhere(kBe, empty)).fields.empty());
  RowDescription one;
  one.fields.push_back({"price_cents", 0, 0, 20, 8, 0x7fffffff, 0});
  const std::string frame = encoded(one);  // the decoded views point into it
  const auto back = decode_ok<RowDescription>(body_split_everywhere(kBe, frame));
  ASSERT_EQ(back.fields.size(), 1u);
  EXPECT_EQ(back.fields[0].name, "price_cents");
  EXPECT_EQ(back.fields[0].type_modifier, 0x7fffffff);
}

TEST(RowDescription, Malformed) {
  const std::string_view body = body_of(kRowDescriptionFrame);
  // The count claims 3 fields where the bytes hold 2.
  std::string three(body);
  three[1] = 3;
  EXPECT_EQ(decode_error<RowDescription>(three),
            "invalid RowDescription message: the field count 3 needs at least 57 bytes but "
            "only 44 remain");
  EXPECT_EQ(decode_error<RowDescription>("\x00\x01" "nineteen-bytes-long"sv),
            "invalid RowDescription message: a field name has no terminating zero byte");
  EXPECT_EQ(decode_error<RowDescription>(
                "\x00\x01" "id\0" "\x00\x00\x00\x00" "\x00\x00" "\x00\x00\x00\x17" "\x00\x04"
                "\xff\xff\xff\xff"sv),
            "invalid RowDescription message: a format code is cut short by the end of the "
            "message");
  EXPECT_EQ(decode_error<RowDescription>("\x00\x00" "\x00"sv),
            "invalid RowDescription message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<RowDescription>(body);
}

// --- ErrorResponse and NoticeResponse --------------------------------------------

constexpr std::string_view kErrorFrame =
    "E" "\x00\x00\x00\x29" "SERROR\0" "VERROR\0" "C42P01\0" "Mno such table\0" "\0"sv;

TEST(ErrorResponse, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const auto e = decode_ok<ErrorResponse>(body_split_everywhere(kBe, kErrorFrame));
  ASSERT_EQ(e.fields.size(), 4u);
  EXPECT_EQ(e.field('S'), "ERROR");
  EXPECT_EQ(e.field('V'), "ERROR");
  EXPECT_EQ(e.field('C'), "42P01");
  EXPECT_EQ(e.field('M'), "no such table");
  EXPECT_EQ(e.field('P'), "");
  EXPECT_EQ(e.fields[2].first, 'C');
}

TEST(ErrorResponse, MakeBuildsSeverityCodeAndMessage) {
  const auto e = ErrorResponse::make("ERROR", "42P01", "no such table");
  EXPECT_EQ(encoded(e), kErrorFrame);
  const auto f = ErrorResponse::make("FATAL", "08P01", "invalid message length 3");
  ASSERT_EQ(f.fields.size(), 4u);
  EXPECT_EQ(f.fields[0], (std::pair<char, std::string>{'S', "FATAL"}));
  EXPECT_EQ(f.fields[1], (std::pair<char, std::string>{'V', "FATAL"}));
  EXPECT_EQ(f.fields[2], (std::pair<char, std::string>{'C', "08P01"}));
  EXPECT_EQ(f.fields[3], (std::pair<char, std::string>{'M', "invalid message length 3"}));
}

TEST(ErrorResponse, RoundTripAsErrorAndNotice) {
  ErrorResponse e = ErrorResponse::make("NOTICE", "00000", "relation exists, skipping");
  e.fields.emplace_back('P', "17");
  std::string notice;
  e.encode(notice, 'N');
  ASSERT_EQ(notice[0], 'N');
  const auto back = decode_ok<ErrorResponse>(body_split_everywhere(kBe, notice));
  EXPECT_EQ(back.fields, e.fields);
  std::string again;
  back.encode(again, 'N');
  EXPECT_EQ(again, notice);
  // No fields at all: just the terminator.
  EXPECT_EQ(encoded(ErrorResponse{}), "E" "\x00\x00\x00\x05" "\0"sv);
  EXPECT_TRUE(decode_ok<ErrorResponse>("\0"sv).fields.empty());
}

TEST(ErrorResponse, Malformed) {
  EXPECT_EQ(decode_error<ErrorResponse>(""),
            "invalid ErrorResponse or NoticeResponse message: the field list has no final zero "
            "byte");
  EXPECT_EQ(decode_error<ErrorResponse>("SERROR\0"sv),
            "invalid ErrorResponse or NoticeResponse message: the field list has no final zero "
            "byte");
  EXPECT_EQ(decode_error<ErrorResponse>("SERROR"),
            "invalid ErrorResponse or NoticeResponse message: a field value has no terminating "
            "zero byte");
  EXPECT_EQ(decode_error<ErrorResponse>("SERROR\0\0M"sv),
            "invalid ErrorResponse or NoticeResponse message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<ErrorResponse>(body_of(kErrorFrame));
}

// --- ReadyForQuery -------------------------------------------------------------

TEST(ReadyForQuery, DecodesHandBuiltFramesSplitAtEveryOffset) {
  for (char status : {'I', 'T', 'E'}) {
    const std::string frame = "Z" "\x00\x00\x00\x05"s + status;
    EXPECT_EQ(decode_ok<ReadyForQuery>(body_split_everywhere(kBe, frame)).status, status);
    EXPECT_EQ(encoded(ReadyForQuery{status}), frame);
  }
}

TEST(ReadyForQuery, Malformed) {
  EXPECT_EQ(decode_error<ReadyForQuery>("X"),
            "invalid ReadyForQuery message: transaction status 'X' is not 'I', 'T' or 'E'");
  EXPECT_EQ(decode_error<ReadyForQuery>(""),
            "invalid ReadyForQuery message: the transaction status is cut short by the end of "
            "the message");
  EXPECT_EQ(decode_error<ReadyForQuery>("II"),
            "invalid ReadyForQuery message: 1 unexpected byte after the end");
}

// --- BackendKeyData ------------------------------------------------------------

constexpr std::string_view kKeyFrame =
    "K" "\x00\x00\x00\x0c" "\x00\x00\x30\x39" "\xde\xad\xbe\xef"sv;

TEST(BackendKeyData, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const auto k = decode_ok<BackendKeyData>(body_split_everywhere(kBe, kKeyFrame));
  EXPECT_EQ(k.process_id, 12345u);
  EXPECT_EQ(k.secret_key, 0xdeadbeefu);
}

TEST(BackendKeyData, RoundTrip) {
  EXPECT_EQ(encoded(BackendKeyData{12345, 0xdeadbeef}), kKeyFrame);
  const auto k = decode_ok<BackendKeyData>(body_of(encoded(BackendKeyData{0xffffffff, 0})));
  EXPECT_EQ(k.process_id, 0xffffffffu);
  EXPECT_EQ(k.secret_key, 0u);
}

TEST(BackendKeyData, Malformed) {
  EXPECT_EQ(decode_error<BackendKeyData>("\x00\x00\x30\x39" "\xde\xad"sv),
            "invalid BackendKeyData message: the secret key is cut short by the end of the "
            "message");
  expect_rejects_truncation_and_padding<BackendKeyData>(body_of(kKeyFrame));
}

// --- ParameterStatus -----------------------------------------------------------

constexpr std::string_view kParameterStatusFrame =
    "S" "\x00\x00\x00\x18" "server_version\0" "15.4\0"sv;

TEST(ParameterStatus, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const auto p = decode_ok<ParameterStatus>(body_split_everywhere(kBe, kParameterStatusFrame));
  EXPECT_EQ(p.name, "server_version");
  EXPECT_EQ(p.value, "15.4");
}

TEST(ParameterStatus, RoundTrip) {
  EXPECT_EQ(encoded(ParameterStatus{"server_version", "15.4"}), kParameterStatusFrame);
  const std::string frame = encoded(ParameterStatus{"application_name", ""});
  const auto p = decode_ok<ParameterStatus>(body_split_everywhere(kBe, frame));
  EXPECT_EQ(p.name, "application_name");
  EXPECT_EQ(p.value, "");
}

TEST(ParameterStatus, Malformed) {
  EXPECT_EQ(decode_error<ParameterStatus>("TimeZone\0UTC"sv),
            "invalid ParameterStatus message: the parameter value has no terminating zero byte");
  EXPECT_EQ(decode_error<ParameterStatus>("TimeZone"),
            "invalid ParameterStatus message: the parameter name has no terminating zero byte");
  expect_rejects_truncation_and_padding<ParameterStatus>(body_of(kParameterStatusFrame));
}

}  // namespace
}  // namespace pgshim::proxy::codec
