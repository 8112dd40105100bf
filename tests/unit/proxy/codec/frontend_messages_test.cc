// Query, Parse, Bind, Describe, Close and Execute: hand-built frames, round trips and
// every malformation.
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

constexpr Direction kFe = Direction::kFrontend;

// --- Query -------------------------------------------------------------------

constexpr std::string_view kQueryFrame = "Q" "\x00\x00\x00\x0d" "SELECT 1\0"sv;

TEST(Query, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Query q = decode_ok<Query>(body_split_everywhere(kFe, kQueryFrame));
  EXPECT_EQ(q.sql, "SELECT 1");
}

TEST(Query, RoundTrip) {
  for (std::string_view sql : {""sv, "SELECT 1"sv, "SELECT 'é'; SELECT 2;"sv}) {
    std::string frame;
    Query{sql}.encode(frame);
    const Query q = decode_ok<Query>(body_split_everywhere(kFe, frame));
    EXPECT_EQ(q.sql, sql);
    std::string again;
    q.encode(again);
    EXPECT_EQ(again, frame);
  }
  std::string frame;
  Query{"SELECT 1"}.encode(frame);
  EXPECT_EQ(frame, kQueryFrame);
}

TEST(Query, Malformed) {
  EXPECT_EQ(decode_error<Query>("SELECT 1"),
            "invalid Query message: the query string has no terminating zero byte");
  EXPECT_EQ(decode_error<Query>("SELECT 1\0x"sv),
            "invalid Query message: 1 unexpected byte after the end");
  EXPECT_EQ(decode_error<Query>("SELECT 1\0\0\0"sv),
            "invalid Query message: 2 unexpected bytes after the end");
  expect_rejects_truncation_and_padding<Query>(body_of(kQueryFrame));
}

// --- Parse -------------------------------------------------------------------

constexpr std::string_view kParseFrame =
    "P" "\x00\x00\x00\x17" "s1\0" "SELECT $1\0" "\x00\x01" "\x00\x00\x00\x17"sv;

TEST(Parse, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Parse p = decode_ok<Parse>(body_split_everywhere(kFe, kParseFrame));
  EXPECT_EQ(p.statement, "s1");
  EXPECT_EQ(p.query, "SELECT $1");
  EXPECT_EQ(p.param_types, (std::vector<std::uint32_t>{23}));
}

TEST(Parse, RoundTrip) {
  Parse p;
  p.statement = "";
  p.query = "INSERT INTO t VALUES ($1, $2, $3)";
  p.param_types = {0, 25, 0xffffffffu};
  std::string frame;
  p.encode(frame);
  const Parse q = decode_ok<Parse>(body_split_everywhere(kFe, frame));
  EXPECT_EQ(q.statement, "");
  EXPECT_EQ(q.query, p.query);
  EXPECT_EQ(q.param_types, p.param_types);
  std::string again;
  q.encode(again);
  EXPECT_EQ(again, frame);
}

TEST(Parse, Malformed) {
  EXPECT_EQ(decode_error<Parse>("s1"),
            "invalid Parse message: the statement name has no terminating zero byte");
  EXPECT_EQ(decode_error<Parse>("s1\0SELECT"sv),
            "invalid Parse message: the query string has no terminating zero byte");
  EXPECT_EQ(decode_error<Parse>("\0SELECT\0" "\x00"sv),
            "invalid Parse message: the parameter type count is cut short by the end of the "
            "message");
  EXPECT_EQ(decode_error<Parse>("\0SELECT\0" "\x00\x02" "\x00\x00\x00\x17"sv),
            "invalid Parse message: the parameter type count 2 needs at least 8 bytes but only "
            "4 remain");
  EXPECT_EQ(decode_error<Parse>("\0SELECT\0" "\xff\xff"sv),
            "invalid Parse message: the parameter type count 65535 needs at least 262140 bytes "
            "but only 0 remain");
  EXPECT_EQ(decode_error<Parse>("\0SELECT\0" "\x00\x00" "\x00"sv),
            "invalid Parse message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<Parse>(body_of(kParseFrame));
}

// --- Bind --------------------------------------------------------------------

// Unnamed portal, statement s1, one text format for all, parameters "42" and
// NULL, one binary result format.
constexpr std::string_view kBindFrame =
    "B" "\x00\x00\x00\x1c" "\0" "s1\0" "\x00\x01" "\x00\x00" "\x00\x02"
    "\x00\x00\x00\x02" "42" "\xff\xff\xff\xff" "\x00\x01" "\x00\x01"sv;

TEST(Bind, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Bind b = decode_ok<Bind>(body_split_everywhere(kFe, kBindFrame));
  EXPECT_EQ(b.portal, "");
  EXPECT_EQ(b.statement, "s1");
  EXPECT_EQ(b.param_formats, (std::vector<std::int16_t>{0}));
  ASSERT_EQ(b.params.size(), 2u);
  EXPECT_FALSE(b.params[0].null);
  EXPECT_EQ(b.params[0].value, "42");
  EXPECT_TRUE(b.params[1].null);
  EXPECT_EQ(b.params[1].value, "");
  EXPECT_EQ(b.result_formats, (std::vector<std::int16_t>{1}));
}

TEST(Bind, RoundTrip) {
  Bind b;
  b.portal = "p1";
  b.statement = "s1";
  b.param_formats = {0, 1, 0};
  b.params = {{false, "text"}, {false, "\0\x01\xff"sv}, {false, ""}};
  b.result_formats = {};
  std::string frame;
  b.encode(frame);
  const Bind c = decode_ok<Bind>(body_split_everywhere(kFe, frame));
  EXPECT_EQ(c.portal, "p1");
  EXPECT_EQ(c.param_formats, b.param_formats);
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[1].value, "\0\x01\xff"sv);
  // A zero-length value is an empty string, not NULL.
  EXPECT_FALSE(c.params[2].null);
  EXPECT_TRUE(c.result_formats.empty());
  std::string again;
  c.encode(again);
  EXPECT_EQ(again, frame);
}

TEST(Bind, RoundTripOfTheHandBuiltFrame) {
  const Bind b = decode_ok<Bind>(body_of(kBindFrame));
  std::string frame;
  b.encode(frame);
  EXPECT_EQ(frame, kBindFrame);
}

TEST(Bind, MalformedNamesAndCounts) {
  EXPECT_EQ(decode_error<Bind>("p1"),
            "invalid Bind message: the portal name has no terminating zero byte");
  EXPECT_EQ(decode_error<Bind>("\0s1"sv),
            "invalid Bind message: the statement name has no terminating zero byte");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x03" "\x00\x00"sv),
            "invalid Bind message: the parameter format count 3 needs at least 6 bytes but "
            "only 2 remain");
  // The parameter count is checked against the bytes left before any is read.
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x03" "\xff\xff\xff\xff" "\x00\x00"sv),
            "invalid Bind message: the parameter count 3 needs at least 12 bytes but only 6 "
            "remain");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x02" "\x00\x00\x00\x00" "\x00\x03"
                               "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" "\x00\x00"sv),
            "invalid Bind message: 2 parameter formats for 3 parameters");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x00" "\x00\x02" "\x00\x00"sv),
            "invalid Bind message: the result format count 2 needs at least 4 bytes but only 2 "
            "remain");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x00" "\x00\x00" "!"sv),
            "invalid Bind message: 1 unexpected byte after the end");
}

TEST(Bind, MalformedParameterLengths) {
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x02" "\xff\xff\xff\xff"
                               "\xff\xff\xff\xfe" "\x00\x00"sv),
            "invalid Bind message: parameter 2 has length -2; only -1 (NULL) may be negative");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x01" "\x80\x00\x00\x00" "\x00\x00"sv),
            "invalid Bind message: parameter 1 has length -2147483648; only -1 (NULL) may be "
            "negative");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x01" "\x00\x00\x00\x05" "ab" "\x00\x00"sv),
            "invalid Bind message: parameter 1 has length 5 but only 4 bytes remain");
  EXPECT_EQ(decode_error<Bind>("\0\0" "\x00\x00" "\x00\x01" "\x7f\xff\xff\xff" "\x00\x00"sv),
            "invalid Bind message: parameter 1 has length 2147483647 but only 2 bytes remain");
  expect_rejects_truncation_and_padding<Bind>(body_of(kBindFrame));
}

// --- Describe and Close --------------------------------------------------------

constexpr std::string_view kDescribeFrame = "D" "\x00\x00\x00\x08" "Pp1\0"sv;
constexpr std::string_view kCloseFrame = "C" "\x00\x00\x00\x06" "S\0"sv;

TEST(Describe, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Describe d = decode_ok<Describe>(body_split_everywhere(kFe, kDescribeFrame));
  EXPECT_EQ(d.kind, 'P');
  EXPECT_EQ(d.name, "p1");
}

TEST(Describe, RoundTrip) {
  for (const Describe d : {Describe{'S', "stmt"}, Describe{'P', ""}}) {
    std::string frame;
    d.encode(frame);
    const Describe e = decode_ok<Describe>(body_split_everywhere(kFe, frame));
    EXPECT_EQ(e.kind, d.kind);
    EXPECT_EQ(e.name, d.name);
  }
  std::string frame;
  Describe{'P', "p1"}.encode(frame);
  EXPECT_EQ(frame, kDescribeFrame);
}

TEST(Describe, Malformed) {
  EXPECT_EQ(decode_error<Describe>("Xname\0"sv),
            "invalid Describe message: kind 'X' is neither 'S' (statement) nor 'P' (portal)");
  EXPECT_EQ(decode_error<Describe>("\0\0"sv),
            "invalid Describe message: kind 0x00 is neither 'S' (statement) nor 'P' (portal)");
  EXPECT_EQ(decode_error<Describe>(""),
            "invalid Describe message: the kind byte is cut short by the end of the message");
  EXPECT_EQ(decode_error<Describe>("Sname"),
            "invalid Describe message: the name has no terminating zero byte");
  EXPECT_EQ(decode_error<Describe>("Sname\0\0"sv),
            "invalid Describe message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<Describe>(body_of(kDescribeFrame));
}

TEST(Close, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Close c = decode_ok<Close>(body_split_everywhere(kFe, kCloseFrame));
  EXPECT_EQ(c.kind, 'S');
  EXPECT_EQ(c.name, "");
}

TEST(Close, RoundTrip) {
  for (const Close c : {Close{'S', "s1"}, Close{'P', "portal"}}) {
    std::string frame;
    c.encode(frame);
    const Close d = decode_ok<Close>(body_split_everywhere(kFe, frame));
    EXPECT_EQ(d.kind, c.kind);
    EXPECT_EQ(d.name, c.name);
  }
  std::string frame;
  Close{'S', ""}.encode(frame);
  EXPECT_EQ(frame, kCloseFrame);
}

TEST(Close, Malformed) {
  EXPECT_EQ(decode_error<Close>("ss1\0"sv),
            "invalid Close message: kind 's' is neither 'S' (statement) nor 'P' (portal)");
  EXPECT_EQ(decode_error<Close>("P"),
            "invalid Close message: the name has no terminating zero byte");
  expect_rejects_truncation_and_padding<Close>(body_of(kCloseFrame));
}

// --- Execute -----------------------------------------------------------------

constexpr std::string_view kExecuteFrame = "E" "\x00\x00\x00\x0b" "p1\0" "\x00\x00\x00\x0a"sv;

TEST(Execute, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const Execute e = decode_ok<Execute>(body_split_everywhere(kFe, kExecuteFrame));
  EXPECT_EQ(e.portal, "p1");
  EXPECT_EQ(e.max_rows, 10);
}

TEST(Execute, RoundTrip) {
  for (const Execute e : {Execute{"", 0}, Execute{"portal", 1}, Execute{"p", 2147483647}}) {
    std::string frame;
    e.encode(frame);
    const Execute d = decode_ok<Execute>(body_split_everywhere(kFe, frame));
    EXPECT_EQ(d.portal, e.portal);
    EXPECT_EQ(d.max_rows, e.max_rows);
  }
  std::string frame;
  Execute{"p1", 10}.encode(frame);
  EXPECT_EQ(frame, kExecuteFrame);
}

TEST(Execute, Malformed) {
  EXPECT_EQ(decode_error<Execute>("p1"), "invalid Execute message: the portal name has no terminating zero byte");
  EXPECT_EQ(decode_error<Execute>("p1\0\0\0"sv),
            "invalid Execute message: the row limit is cut short by the end of the message");
  EXPECT_EQ(decode_error<Execute>("\0\0\0\0\0\0"sv), "invalid Execute message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<Execute>(body_of(kExecuteFrame));
}

// --- A pipeline: Parse, Bind, Describe, Execute, Sync sent without waiting ------

TEST(FrontendPipeline, SeveralFramesInOneBufferSplitAtEveryOffset) {
  std::string bytes(kParseFrame);
  bytes += kBindFrame;
  bytes += kDescribeFrame;
  bytes += "E" "\x00\x00\x00\x09" "\0" "\x00\x00\x00\x00"sv;  // Execute, no row limit
  bytes += "S" "\x00\x00\x00\x04"sv;                          // Sync
  test::expect_frames_split_everywhere(kFe, bytes, "PBDES");
  const auto frames = test::split_frames(kFe, bytes);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(decode_ok<Parse>(frames[0].body).query, "SELECT $1");
  EXPECT_EQ(decode_ok<Bind>(frames[1].body).params.size(), 2u);
  EXPECT_EQ(decode_ok<Describe>(frames[2].body).name, "p1");
  EXPECT_EQ(frames[3].body, "\0" "\x00\x00\x00\x00"sv);
  EXPECT_EQ(frames[4].body, "");
}

}  // namespace
}  // namespace pgshim::proxy::codec
