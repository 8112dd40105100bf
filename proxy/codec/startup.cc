// Startup-phase packets of messages.h (PostgreSQL documentation, "Message Formats":
// StartupMessage, SSLRequest, GSSENCRequest, CancelRequest). They have no type
// byte; the 4-byte code after the length tells them apart.
#include <string>
#include <utility>

#include "proxy/codec/body_reader.h"
#include "proxy/codec/messages.h"

namespace pgshim::proxy::codec {
namespace {

using detail::BodyReader;
using Kind = StartupPacket::Kind;

// PostgreSQL reserves major version 1234 for request codes (SSLRequest and friends),
// so such a code is an unknown request rather than an unsupported protocol.
constexpr std::uint32_t kRequestCodeMajor = 1234;

DecodeStatus malformed(std::string& error, std::string message) {
  error = std::move(message);
  return DecodeStatus::kMalformed;
}

// SSLRequest, GSSENCRequest and CancelRequest have a fixed length.
DecodeStatus check_request_length(std::uint32_t length, std::uint32_t expected,
                                  std::string_view name, std::string& error) {
  if (length == expected) return DecodeStatus::kOk;
  return malformed(error, "invalid " + std::string(name) + " length " + std::to_string(length) +
                              ": expected " + std::to_string(expected));
}

// name\0value\0 pairs ended by an empty name; nothing may follow.
bool read_params(BodyReader& r, StartupPacket& out) {
  for (;;) {
    if (r.remaining() == 0) return r.fail("the parameter list has no final zero byte");
    std::string_view name;
    if (!r.read_string(name, "a parameter name")) return false;
    if (name.empty()) return r.finish();
    std::string_view value;
    if (r.remaining() == 0 || !r.read_string(value, "a parameter value")) {
      return r.fail("parameter \"" + std::string(name) + "\" has no value");
    }
    out.params.emplace_back(name, value);
  }
}

DecodeStatus decode_startup_message(std::string_view packet, std::uint32_t protocol,
                                    StartupPacket& out, std::string& error) {
  const std::uint32_t major = protocol >> 16;
  const std::uint32_t minor = protocol & 0xffff;
  if (major == kRequestCodeMajor) {
    return malformed(error, "unknown startup request code " + std::to_string(protocol));
  }
  // Any 3.x is accepted: the server answers a newer minor version with
  // NegotiateProtocolVersion, which the proxy passes through.
  if (major != 3) {
    return malformed(error, "unsupported frontend protocol " + std::to_string(major) + "." +
                                std::to_string(minor) + ": server supports 3.0");
  }
  out.kind = Kind::kStartup;
  out.protocol = protocol;
  BodyReader r(packet.substr(8), "startup packet", error);
  if (!read_params(r, out)) return DecodeStatus::kMalformed;
  if (out.param("user").empty()) {
    return malformed(error, "no PostgreSQL user name specified in startup packet");
  }
  return DecodeStatus::kOk;
}

}  // namespace

std::string_view StartupPacket::param(std::string_view name) const {
  for (const auto& [n, value] : params) {
    if (n == name) return value;
  }
  return {};
}

void StartupPacket::encode(std::string& out) const {
  const std::size_t start = out.size();
  append_u32(out, 0);  // patched below: the length counts itself
  switch (kind) {
    case Kind::kStartup:
      append_u32(out, protocol);
      for (const auto& [name, value] : params) {
        append_string(out, name);
        append_string(out, value);
      }
      out.push_back('\0');
      break;
    case Kind::kSslRequest:
      append_u32(out, kSslRequestCode);
      break;
    case Kind::kGssEncRequest:
      append_u32(out, kGssEncRequestCode);
      break;
    case Kind::kCancelRequest:
      append_u32(out, kCancelRequestCode);
      append_u32(out, process_id);
      append_u32(out, secret_key);
      break;
  }
  const auto length = static_cast<std::uint32_t>(out.size() - start);
  char* p = out.data() + start;
  p[0] = static_cast<char>(length >> 24);
  p[1] = static_cast<char>(length >> 16);
  p[2] = static_cast<char>(length >> 8);
  p[3] = static_cast<char>(length);
}

DecodeStatus decode_startup_length(std::string_view bytes, std::uint32_t& length,
                                   std::string& error) {
  if (bytes.size() < 4) return DecodeStatus::kIncomplete;
  length = read_u32(bytes.data());
  if (length < 8 || length > kMaxStartupPacket) {
    return malformed(error, "invalid startup packet length " + std::to_string(length));
  }
  return DecodeStatus::kOk;
}

DecodeStatus decode_startup(std::string_view packet, StartupPacket& out, std::string& error) {
  std::uint32_t length = 0;
  const DecodeStatus status = decode_startup_length(packet, length, error);
  if (status != DecodeStatus::kOk) return status;
  if (packet.size() < length) return DecodeStatus::kIncomplete;
  if (packet.size() > length) {
    return malformed(error, "startup packet length " + std::to_string(length) +
                                " does not match the " + std::to_string(packet.size()) +
                                " bytes given");
  }
  out = StartupPacket{};
  const std::uint32_t code = read_u32(packet.data() + 4);
  switch (code) {
    case kSslRequestCode:
      out.kind = Kind::kSslRequest;
      return check_request_length(length, 8, "SSLRequest", error);
    case kGssEncRequestCode:
      out.kind = Kind::kGssEncRequest;
      return check_request_length(length, 8, "GSSENCRequest", error);
    case kCancelRequestCode:
      out.kind = Kind::kCancelRequest;
      if (check_request_length(length, 16, "CancelRequest", error) != DecodeStatus::kOk) {
        return DecodeStatus::kMalformed;
      }
      out.process_id = read_u32(packet.data() + 8);
      out.secret_key = read_u32(packet.data() + 12);
      return DecodeStatus::kOk;
    default:
      return decode_startup_message(packet, code, out, error);
  }
}

}  // namespace pgshim::proxy::codec
