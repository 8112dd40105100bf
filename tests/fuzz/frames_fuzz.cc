// Fuzz target `frames`: the frame decoder and every typed message decoder of
// proxy/codec (PostgreSQL documentation, "Message Formats").
//
// The first byte of the input chooses the mode:
//   bit 0  the direction: 0 frontend (client), 1 backend (server)
//   bit 1  the maximum message length: 0 1 MiB (more than any input), 1 64 bytes
//   bit 2  0 stream: the rest is a byte stream cut into frames as a session
//          does, each complete frame handed to its typed decoder;
//          1 body: the second byte is a message type and the rest its body,
//          handed straight to the typed decoder (bodies the frame header
//          would have refused as too short included)
// Properties beyond "no crash": a frame is kIncomplete at every shorter prefix;
// a malformed header is malformed from its first 5 bytes on; every refusal has
// an error sentence; a typed decoder never answers kIncomplete for a whole
// body; a body it accepts re-encodes to exactly the bytes of the frame.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/codec/frame.h"
#include "proxy/codec/messages.h"
#include "tests/fuzz/fuzz_check.h"

namespace pgshim::fuzz {
namespace {

using proxy::codec::DecodeStatus;
using proxy::codec::Direction;
using proxy::codec::Header;

constexpr std::uint32_t kProxyMaxLength = 1 << 20;
constexpr std::uint32_t kTinyMaxLength = 64;

// The frame a decoded message must encode to: the type byte, the length, the body.
std::string frame_of(char type, std::string_view body) {
  std::string frame;
  const std::size_t start = proxy::codec::begin_message(frame, type);
  frame.append(body);
  proxy::codec::finish_message(frame, start);
  return frame;
}

void check_refusal(DecodeStatus status, const std::string& error, std::string_view decoder) {
  require(status != DecodeStatus::kIncomplete, "a typed decoder answers kIncomplete", decoder);
  if (status == DecodeStatus::kMalformed) require(!error.empty(), "a refusal without a sentence", decoder);
}

// Decodes `body` as `Message`; when accepted, encode must give the frame back.
template <class Message, class Encode>
void round_trip(char type, std::string_view body, std::string_view decoder, Encode encode) {
  Message message;
  std::string error;
  const DecodeStatus status = Message::decode(body, message, error);
  check_refusal(status, error, decoder);
  if (status != DecodeStatus::kOk) return;
  std::string encoded;
  encode(message, encoded);
  require(encoded == frame_of(type, body), "an accepted body does not re-encode to itself", decoder);
}

template <class Message>
void round_trip(char type, std::string_view body, std::string_view decoder) {
  round_trip<Message>(type, body, decoder, [](const Message& m, std::string& out) { m.encode(out); });
}

void decode_frontend(char type, std::string_view body) {
  using namespace proxy::codec;
  switch (type) {
    case 'Q': return round_trip<Query>(type, body, "Query");
    case 'P': return round_trip<Parse>(type, body, "Parse");
    case 'B': return round_trip<Bind>(type, body, "Bind");
    case 'D': return round_trip<Describe>(type, body, "Describe");
    case 'C': return round_trip<Close>(type, body, "Close");
    case 'E': return round_trip<Execute>(type, body, "Execute");
    default: return;  // forwarded as bytes
  }
}

void decode_authentication(std::string_view body) {
  using namespace proxy::codec;
  AuthCode code{};
  std::string error;
  const DecodeStatus status = decode_auth_code(body, code, error);
  check_refusal(status, error, "Authentication");
  if (status == DecodeStatus::kOk && code == AuthCode::kSasl) {
    round_trip<AuthenticationSASL>('R', body, "AuthenticationSASL");
  }
}

void decode_backend(char type, std::string_view body) {
  using namespace proxy::codec;
  switch (type) {
    case 'T': return round_trip<RowDescription>(type, body, "RowDescription");
    case 'E':
    case 'N':
      return round_trip<ErrorResponse>(type, body, "ErrorResponse",
                                       [type](const ErrorResponse& m, std::string& out) { m.encode(out, type); });
    case 'Z': return round_trip<ReadyForQuery>(type, body, "ReadyForQuery");
    case 'K': return round_trip<BackendKeyData>(type, body, "BackendKeyData");
    case 'S': return round_trip<ParameterStatus>(type, body, "ParameterStatus");
    case 'R': return decode_authentication(body);
    default: return;  // forwarded as bytes
  }
}

void decode_typed(Direction direction, char type, std::string_view body) {
  const ExactCopy copy(body);
  if (direction == Direction::kFrontend) {
    decode_frontend(type, copy.view());
  } else {
    decode_backend(type, copy.view());
  }
}

// The verdict on the first frame of `bytes` must not depend on bytes after the
// header, except that a frame stays kIncomplete until its last byte is there.
void check_prefixes(Direction direction, std::string_view bytes, std::uint32_t max_length,
                    DecodeStatus whole, const Header& header) {
  Header h;
  std::string_view body;
  std::string error;
  if (whole == DecodeStatus::kMalformed) {
    require(decode_frame(direction, bytes.substr(0, proxy::codec::kHeaderSize), max_length, h, body,
                         error) == DecodeStatus::kMalformed,
            "a malformed header is not malformed from its first 5 bytes");
    return;
  }
  const std::size_t end = whole == DecodeStatus::kOk ? header.frame_size() : bytes.size();
  for (std::size_t n = 0; n < end; ++n) {
    require(decode_frame(direction, bytes.substr(0, n), max_length, h, body, error) == DecodeStatus::kIncomplete,
            "a prefix of a frame is not kIncomplete");
  }
}

void fuzz_stream(Direction direction, std::uint32_t max_length, std::string_view bytes) {
  while (!bytes.empty()) {
    Header header;
    std::string_view body;
    std::string error;
    const DecodeStatus status = decode_frame(direction, bytes, max_length, header, body, error);
    check_prefixes(direction, bytes, max_length, status, header);
    if (status == DecodeStatus::kIncomplete) return;  // the stream ends inside a frame
    if (status == DecodeStatus::kMalformed) {
      require(!error.empty(), "a malformed frame without a sentence");
      return;  // the session closes the connection
    }
    require(header.length >= 4 && header.length <= max_length && header.frame_size() <= bytes.size() &&
                body.data() == bytes.data() + proxy::codec::kHeaderSize && body.size() == header.body_size(),
            "an accepted frame is out of bounds");
    decode_typed(direction, header.type, body);
    bytes.remove_prefix(header.frame_size());
  }
}

void fuzz_one(std::uint8_t mode, std::string_view rest) {
  const Direction direction = (mode & 1) != 0 ? Direction::kBackend : Direction::kFrontend;
  if ((mode & 4) != 0) {
    if (!rest.empty()) decode_typed(direction, rest[0], rest.substr(1));
  } else {
    fuzz_stream(direction, (mode & 2) != 0 ? kTinyMaxLength : kProxyMaxLength, rest);
  }
}

}  // namespace
}  // namespace pgshim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pgshim::fuzz::run_with_mode(data, size, pgshim::fuzz::fuzz_one);
}
