// Startup packets: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "proxy/codec/messages.h"
#include "tests/unit/proxy/codec/codec_test_util.h"

namespace pgshim::proxy::codec {
namespace {

using namespace std::literals;
using Kind = StartupPacket::Kind;

constexpr std::string_view kStartup =
    "\x00\x00\x00\x3b" "\x00\x03\x00\x00" "user\0" "alice\0" "database\0" "shop\0"
    "application_name\0" "shop-v1\0" "\0"sv;
constexpr std::string_view kSslRequest = "\x00\x00\x00\x08" "\x04\xd2\x16\x2f"sv;
constexpr std::string_view kGssEncRequest = "\x00\x00\x00\x08" "\x04\xd2\x16\x30"sv;
constexpr std::string_view kCancelRequest =
    "\x00\x00\x00\x10" "\x04\xd2\x16\x2e" "\x00\x00\x30\x39" "\xde\xad\xbe\xef"sv;

// Feeds every proper prefix of `packet` (kIncomplete), then the whole packet.
StartupPacket decode_split_everywhere(std::string_view packet) {
  for (std::size_t n = 0; n < packet.size(); ++n) {
    const test::ExactBuffer prefix(packet.substr(0, n));
    std::uint32_t length = 0;
    StartupPacket out;
    std::string error;
    EXPECT_EQ(decode_startup_length(prefix.view(), length, error),
              n < 4 ? DecodeStatus::kIncomplete : DecodeStatus::kOk)
        << error;
    EXPECT_EQ(decode_startup(prefix.view(), out, error), DecodeStatus::kIncomplete)
        << "prefix of " << n << " bytes: " << error;
  }
  StartupPacket out;
  std::string error;
  EXPECT_EQ(decode_startup(packet, out, error), DecodeStatus::kOk) << error;
  return out;
}

std::string startup_error(std::string_view packet) {
  const test::ExactBuffer buffer(packet);
  StartupPacket out;
  std::string error;
  EXPECT_EQ(decode_startup(buffer.view(), out, error), DecodeStatus::kMalformed);
  return error;
}

// A StartupMessage with `protocol` and the raw parameter bytes `params`.
std::string startup_with(std::uint32_t protocol, std::string_view params) {
  std::string out;
  append_u32(out, static_cast<std::uint32_t>(8 + params.size()));
  append_u32(out, protocol);
  out += params;
  return out;
}

TEST(StartupMessage, DecodesHandBuiltPacketSplitAtEveryOffset) {
  const StartupPacket p = decode_split_everywhere(kStartup);
  EXPECT_EQ(p.kind, Kind::kStartup);
  EXPECT_EQ(p.protocol, kProtocolVersion3);
  ASSERT_EQ(p.params.size(), 3u);
  EXPECT_EQ(p.params[0], (std::pair<std::string_view, std::string_view>{"user", "alice"}));
  EXPECT_EQ(p.params[2].first, "application_name");
  EXPECT_EQ(p.param("user"), "alice");
  EXPECT_EQ(p.param("database"), "shop");
  EXPECT_EQ(p.param("application_name"), "shop-v1");
  EXPECT_EQ(p.param("options"), "");
}

TEST(StartupMessage, RoundTrip) {
  StartupPacket p;
  p.protocol = kProtocolVersion3;
  p.params = {{"user", "alice"}, {"database", "shop"}, {"application_name", "shop-v1"}};
  std::string packet;
  p.encode(packet);
  EXPECT_EQ(packet, kStartup);
  p.params = {{"user", "bob"}, {"options", "-c pgshim.version=new"}, {"_pq_.x", ""}};
  packet.clear();
  p.encode(packet);
  const StartupPacket q = decode_split_everywhere(packet);
  EXPECT_EQ(q.params, p.params);
  EXPECT_EQ(q.param("options"), "-c pgshim.version=new");
}

// A newer minor version is the server's to negotiate down, not the codec's to refuse.
TEST(StartupMessage, AcceptsAnyMinorVersionOfProtocol3) {
  const StartupPacket p = decode_split_everywhere(startup_with(0x00030002, "user\0u\0\0"sv));
  EXPECT_EQ(p.protocol, 0x00030002u);
}

TEST(StartupMessage, RejectsOtherMajorVersions) {
  EXPECT_EQ(startup_error(startup_with(0x00020000, "user\0u\0\0"sv)),
            "unsupported frontend protocol 2.0: server supports 3.0");
  EXPECT_EQ(startup_error(startup_with(0x00040001, "user\0u\0\0"sv)),
            "unsupported frontend protocol 4.1: server supports 3.0");
  EXPECT_EQ(startup_error("\x00\x00\x00\x08" "\x00\x02\x00\x00"sv),
            "unsupported frontend protocol 2.0: server supports 3.0");
}

TEST(StartupMessage, RejectsBadParameterLists) {
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0alice\0"sv)),
            "invalid startup packet: the parameter list has no final zero byte");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, ""sv)),
            "invalid startup packet: the parameter list has no final zero byte");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0alice\0database\0"sv)),
            "invalid startup packet: parameter \"database\" has no value");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0alice"sv)),
            "invalid startup packet: parameter \"user\" has no value");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0alice\0database"sv)),
            "invalid startup packet: a parameter name has no terminating zero byte");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0alice\0\0x"sv)),
            "invalid startup packet: 1 unexpected byte after the end");
}

TEST(StartupMessage, RequiresUser) {
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "database\0shop\0\0"sv)),
            "no PostgreSQL user name specified in startup packet");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "\0"sv)),
            "no PostgreSQL user name specified in startup packet");
  EXPECT_EQ(startup_error(startup_with(kProtocolVersion3, "user\0\0\0"sv)),
            "no PostgreSQL user name specified in startup packet");
}

TEST(StartupMessage, EveryTruncationOfTheParametersIsRejected) {
  // Cutting the parameter bytes anywhere (with a consistent length field) must
  // fail, never read past the end.
  const std::string_view params = kStartup.substr(8);
  for (std::size_t n = 0; n < params.size(); ++n) {
    SCOPED_TRACE("parameters cut to " + std::to_string(n) + " bytes");
    EXPECT_FALSE(startup_error(startup_with(kProtocolVersion3, params.substr(0, n))).empty());
  }
}

TEST(SslRequest, DecodesAndEncodes) {
  EXPECT_EQ(decode_split_everywhere(kSslRequest).kind, Kind::kSslRequest);
  StartupPacket p;
  p.kind = Kind::kSslRequest;
  std::string packet;
  p.encode(packet);
  EXPECT_EQ(packet, kSslRequest);
}

TEST(GssEncRequest, DecodesAndEncodes) {
  EXPECT_EQ(decode_split_everywhere(kGssEncRequest).kind, Kind::kGssEncRequest);
  StartupPacket p;
  p.kind = Kind::kGssEncRequest;
  std::string packet;
  p.encode(packet);
  EXPECT_EQ(packet, kGssEncRequest);
}

TEST(CancelRequest, DecodesAndEncodes) {
  const StartupPacket c = decode_split_everywhere(kCancelRequest);
  EXPECT_EQ(c.kind, Kind::kCancelRequest);
  EXPECT_EQ(c.process_id, 12345u);
  EXPECT_EQ(c.secret_key, 0xdeadbeefu);
  EXPECT_TRUE(c.params.empty());
  std::string packet;
  c.encode(packet);
  EXPECT_EQ(packet, kCancelRequest);
}

TEST(RequestPackets, RejectWrongLengths) {
  EXPECT_EQ(startup_error("\x00\x00\x00\x0c" "\x04\xd2\x16\x2f" "xxxx"sv),
            "invalid SSLRequest length 12: expected 8");
  EXPECT_EQ(startup_error("\x00\x00\x00\x0c" "\x04\xd2\x16\x30" "xxxx"sv),
            "invalid GSSENCRequest length 12: expected 8");
  EXPECT_EQ(startup_error("\x00\x00\x00\x0c" "\x04\xd2\x16\x2e" "\x00\x00\x30\x39"sv),
            "invalid CancelRequest length 12: expected 16");
  EXPECT_EQ(startup_error("\x00\x00\x00\x08" "\x04\xd2\x16\x2e"sv),
            "invalid CancelRequest length 8: expected 16");
}

TEST(RequestPackets, RejectUnknownRequestCode) {
  EXPECT_EQ(startup_error("\x00\x00\x00\x08" "\x04\xd2\x16\x31"sv),
            "unknown startup request code 80877105");
  EXPECT_EQ(startup_error("\x00\x00\x00\x08" "\x04\xd2\x00\x00"sv),
            "unknown startup request code 80871424");
}

TEST(StartupLength, RejectsBelowEightAndAboveLimit) {
  std::uint32_t length = 0;
  std::string error;
  for (std::uint32_t bad : {0u, 4u, 7u, kMaxStartupPacket + 1, 0xffffffffu}) {
    std::string bytes;
    append_u32(bytes, bad);
    EXPECT_EQ(decode_startup_length(bytes, length, error), DecodeStatus::kMalformed);
    EXPECT_EQ(error, "invalid startup packet length " + std::to_string(bad));
    // decode_startup reports the same without waiting for the rest.
    EXPECT_EQ(startup_error(bytes), error);
  }
  for (std::uint32_t good : {8u, 100u, kMaxStartupPacket}) {
    std::string bytes;
    append_u32(bytes, good);
    EXPECT_EQ(decode_startup_length(bytes, length, error), DecodeStatus::kOk);
    EXPECT_EQ(length, good);
  }
}

TEST(StartupLength, PacketLongerThanItsLengthIsMalformed) {
  EXPECT_EQ(startup_error(std::string(kSslRequest) + "S"),
            "startup packet length 8 does not match the 9 bytes given");
}

}  // namespace
}  // namespace pgshim::proxy::codec
