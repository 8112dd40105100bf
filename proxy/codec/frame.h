// Framing of the PostgreSQL frontend/backend protocol, version 3.0
// (PostgreSQL documentation, "Message Formats" and "Message Flow").
//
// A regular message is one type byte, a 4-byte big-endian length that counts
// itself and the body but not the type byte, and the body. Startup-phase packets
// (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have no type byte.
//
// Pure code: no I/O, no allocation on the hot path, never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgshim::proxy::codec {

inline constexpr std::size_t kHeaderSize = 5;

// Who sends the message: the frontend (client) or the backend (server).
enum class Direction { kFrontend, kBackend };

enum class DecodeStatus {
  kOk,          // complete and well-formed
  kIncomplete,  // more bytes are needed
  kMalformed,   // the bytes can never form a valid message; see the error text
};

struct Header {
  char type = 0;
  std::uint32_t length = 0;  // as on the wire: includes the 4 length bytes
  [[nodiscard]] std::size_t body_size() const { return length - 4; }
  [[nodiscard]] std::size_t frame_size() const { return length + 1; }
};

// Decodes the 5-byte header at the start of `bytes`. kIncomplete when fewer than
// 5 bytes are present. kMalformed (with `error` set to a sentence fit for an
// 08P01 ErrorResponse) when the type byte is not a message the `direction` may
// send, or the length is below 4, or below the minimum body for the type
// (e.g. ReadyForQuery is exactly 5), or above `max_length`.
[[nodiscard]] DecodeStatus decode_header(Direction direction, std::string_view bytes,
                                         std::uint32_t max_length, Header& header,
                                         std::string& error);

// decode_header, and kIncomplete until the whole frame is in `bytes`; then `body`
// is the body of the first frame (a view into `bytes`). The frame that follows,
// if any, starts at bytes.substr(header.frame_size()).
[[nodiscard]] DecodeStatus decode_frame(Direction direction, std::string_view bytes,
                                        std::uint32_t max_length, Header& header,
                                        std::string_view& body, std::string& error);

// Big-endian helpers shared by the message codecs.
[[nodiscard]] inline std::uint32_t read_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}
[[nodiscard]] inline std::uint16_t read_u16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>((u[0] << 8) | u[1]);
}
void append_u32(std::string& out, std::uint32_t v);
void append_u16(std::string& out, std::uint16_t v);
// A string and its zero terminator, as every protocol string is sent.
void append_string(std::string& out, std::string_view s);

// Starts a regular message of `type` in `out` with a placeholder length;
// finish_message patches the length once the body has been appended.
std::size_t begin_message(std::string& out, char type);
void finish_message(std::string& out, std::size_t start);

}  // namespace pgshim::proxy::codec
