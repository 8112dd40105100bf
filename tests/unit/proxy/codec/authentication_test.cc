// Authentication ('R'): the code of every request, AuthenticationSASL's mechanism
// list, and a whole startup response from the server split at every offset.
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

constexpr std::string_view kAuthOkFrame = "R" "\x00\x00\x00\x08" "\x00\x00\x00\x00"sv;
constexpr std::string_view kMd5Frame = "R" "\x00\x00\x00\x0c" "\x00\x00\x00\x05" "salt"sv;
constexpr std::string_view kSaslFrame =
    "R" "\x00\x00\x00\x2a" "\x00\x00\x00\x0a" "SCRAM-SHA-256-PLUS\0" "SCRAM-SHA-256\0" "\0"sv;

AuthCode code_ok(std::string_view body) {
  AuthCode code{};
  std::string error;
  EXPECT_EQ(decode_auth_code(body, code, error), DecodeStatus::kOk) << error;
  return code;
}

std::string code_error(std::string_view body) {
  const test::ExactBuffer buffer(body);
  AuthCode code{};
  std::string error;
  EXPECT_EQ(decode_auth_code(buffer.view(), code, error), DecodeStatus::kMalformed);
  return error;
}

TEST(AuthCode, DecodesHandBuiltFramesSplitAtEveryOffset) {
  EXPECT_EQ(code_ok(body_split_everywhere(kBe, kAuthOkFrame)), AuthCode::kOk);
  EXPECT_EQ(code_ok(body_split_everywhere(kBe, kMd5Frame)), AuthCode::kMd5Password);
  EXPECT_EQ(code_ok(body_split_everywhere(kBe, kSaslFrame)), AuthCode::kSasl);
}

TEST(AuthCode, EveryKnownCode) {
  EXPECT_EQ(code_ok("\x00\x00\x00\x03"sv), AuthCode::kCleartextPassword);
  EXPECT_EQ(code_ok("\x00\x00\x00\x07"sv), AuthCode::kGss);
  EXPECT_EQ(code_ok("\x00\x00\x00\x08" "gss-token"sv), AuthCode::kGssContinue);
  EXPECT_EQ(code_ok("\x00\x00\x00\x09"sv), AuthCode::kSspi);
  EXPECT_EQ(code_ok("\x00\x00\x00\x0b" "r=abc,s=c2FsdA==,i=4096"sv), AuthCode::kSaslContinue);
  EXPECT_EQ(code_ok("\x00\x00\x00\x0c" "v=c2lnbmF0dXJl"sv), AuthCode::kSaslFinal);
}

TEST(AuthCode, Malformed) {
  EXPECT_EQ(code_error("\x00\x00\x00"sv),
            "invalid Authentication message: the authentication code is cut short by the end "
            "of the message");
  // KerberosV5 (2) and SCMCredential (6) are long gone from PostgreSQL.
  EXPECT_EQ(code_error("\x00\x00\x00\x02"sv),
            "invalid Authentication message: unsupported authentication request code 2");
  EXPECT_EQ(code_error("\x00\x00\x00\x06"sv),
            "invalid Authentication message: unsupported authentication request code 6");
  EXPECT_EQ(code_error("\xff\xff\xff\xff"sv),
            "invalid Authentication message: unsupported authentication request code "
            "4294967295");
  EXPECT_EQ(code_error("\x00\x00\x00\x00" "x"sv),
            "invalid Authentication message: code 0 with a body of 5 bytes");
  EXPECT_EQ(code_error("\x00\x00\x00\x05" "sal"sv),
            "invalid Authentication message: code 5 with a body of 7 bytes");
  EXPECT_EQ(code_error("\x00\x00\x00\x05" "salts"sv),
            "invalid Authentication message: code 5 with a body of 9 bytes");
  EXPECT_FALSE(code_error("\x00\x00\x00\x03" "pw"sv).empty());
}

TEST(AuthenticationSASL, DecodesHandBuiltFrameSplitAtEveryOffset) {
  const auto sasl = decode_ok<AuthenticationSASL>(body_split_everywhere(kBe, kSaslFrame));
  EXPECT_EQ(sasl.mechanisms,
            (std::vector<std::string_view>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}));
}

TEST(AuthenticationSASL, RoundTrip) {
  AuthenticationSASL sasl;
  sasl.mechanisms = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
  std::string frame;
  sasl.encode(frame);
  EXPECT_EQ(frame, kSaslFrame);
  // The proxy's own edit: drop -PLUS when the client side is TLS.
  sasl.mechanisms = {"SCRAM-SHA-256"};
  frame.clear();
  sasl.encode(frame);
  const auto back = decode_ok<AuthenticationSASL>(body_split_everywhere(kBe, frame));
  EXPECT_EQ(back.mechanisms, sasl.mechanisms);
}

TEST(AuthenticationSASL, Malformed) {
  EXPECT_EQ(decode_error<AuthenticationSASL>("\x00\x00\x00\x0a" "\0"sv),
            "invalid AuthenticationSASL message: the mechanism list is empty");
  EXPECT_EQ(decode_error<AuthenticationSASL>("\x00\x00\x00\x0a" "SCRAM-SHA-256\0"sv),
            "invalid AuthenticationSASL message: the mechanism list has no terminating zero "
            "byte");
  EXPECT_EQ(decode_error<AuthenticationSASL>("\x00\x00\x00\x0b" "SCRAM-SHA-256\0" "\0"sv),
            "invalid AuthenticationSASL message: code 11 instead of 10");
  EXPECT_EQ(decode_error<AuthenticationSASL>("\x00\x00\x00\x0a" "SCRAM-SHA-256\0" "\0" "\0"sv),
            "invalid AuthenticationSASL message: 1 unexpected byte after the end");
  expect_rejects_truncation_and_padding<AuthenticationSASL>(body_of(kSaslFrame));
}

// What a server sends after a trust login, in one buffer.
TEST(AuthenticationFlow, StartupResponseSplitAtEveryOffset) {
  std::string bytes(kAuthOkFrame);
  bytes += "S" "\x00\x00\x00\x18" "server_version\0" "15.4\0"sv;
  bytes += "S" "\x00\x00\x00\x19" "client_encoding\0" "UTF8\0"sv;
  bytes += "K" "\x00\x00\x00\x0c" "\x00\x00\x30\x39" "\xde\xad\xbe\xef"sv;
  bytes += "Z" "\x00\x00\x00\x05" "I"sv;
  test::expect_frames_split_everywhere(kBe, bytes, "RSSKZ");
  const auto frames = test::split_frames(kBe, bytes);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(code_ok(frames[0].body), AuthCode::kOk);
  EXPECT_EQ(decode_ok<ParameterStatus>(frames[2].body).value, "UTF8");
  EXPECT_EQ(decode_ok<BackendKeyData>(frames[3].body).process_id, 12345u);
  EXPECT_EQ(decode_ok<ReadyForQuery>(frames[4].body).status, 'I');
}

}  // namespace
}  // namespace pgshim::proxy::codec
