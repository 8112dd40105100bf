#include "proxy/codec/frame.h"

#include <array>

#include "proxy/codec/body_reader.h"

namespace pgshim::proxy::codec {
namespace {

// What the length field of a message type may hold. min_length 0 marks a type the
// direction never sends; every real type has min_length >= 4 (the length counts
// itself), so one comparison covers both "below 4" and "below the type's minimum".
struct TypeRule {
  std::uint8_t min_length = 0;
  bool exact = false;  // the length must equal min_length
};
using RuleTable = std::array<TypeRule, 256>;

constexpr TypeRule at_least(std::uint8_t n) { return {n, false}; }
constexpr TypeRule exactly(std::uint8_t n) { return {n, true}; }

constexpr void set(RuleTable& t, char type, TypeRule rule) {
  t[static_cast<unsigned char>(type)] = rule;
}

// Minimums are the smallest well-formed body of each message (PostgreSQL
// documentation, "Message Formats"), so a frame too short to ever decode is
// rejected before its body is buffered.
constexpr RuleTable make_frontend_rules() {
  RuleTable t{};
  set(t, 'Q', at_least(4 + 1));          // Query: string
  set(t, 'P', at_least(4 + 1 + 1 + 2));  // Parse: 2 strings, int16 count
  set(t, 'B', at_least(4 + 1 + 1 + 2 + 2 + 2));  // Bind: 2 strings, 3 int16 counts
  set(t, 'E', at_least(4 + 1 + 4));      // Execute: string, int32 row limit
  set(t, 'D', at_least(4 + 1 + 1));      // Describe: kind byte, string
  set(t, 'C', at_least(4 + 1 + 1));      // Close: kind byte, string
  set(t, 'H', exactly(4));               // Flush
  set(t, 'S', exactly(4));               // Sync
  set(t, 'X', exactly(4));               // Terminate
  set(t, 'F', at_least(4 + 4 + 2 + 2 + 2));  // FunctionCall: oid, 3 int16 counts/format
  set(t, 'd', at_least(4));              // CopyData
  set(t, 'c', exactly(4));               // CopyDone
  set(t, 'f', at_least(4 + 1));          // CopyFail: string
  set(t, 'p', at_least(4));              // Password/SASL/GSS response: opaque bytes
  return t;
}

constexpr RuleTable make_backend_rules() {
  RuleTable t{};
  set(t, 'R', at_least(4 + 4));          // Authentication: int32 code
  set(t, 'K', exactly(4 + 4 + 4));       // BackendKeyData (protocol 3.0 key size)
  set(t, 'S', at_least(4 + 1 + 1));      // ParameterStatus: 2 strings
  set(t, 'Z', exactly(4 + 1));           // ReadyForQuery
  set(t, 'T', at_least(4 + 2));          // RowDescription: int16 count
  set(t, 'D', at_least(4 + 2));          // DataRow: int16 count
  set(t, 'C', at_least(4 + 1));          // CommandComplete: string
  set(t, 'E', at_least(4 + 1));          // ErrorResponse: terminator
  set(t, 'N', at_least(4 + 1));          // NoticeResponse: terminator
  set(t, 'A', at_least(4 + 4 + 1 + 1));  // NotificationResponse: pid, 2 strings
  set(t, '1', exactly(4));               // ParseComplete
  set(t, '2', exactly(4));               // BindComplete
  set(t, '3', exactly(4));               // CloseComplete
  set(t, 'n', exactly(4));               // NoData
  set(t, 's', exactly(4));               // PortalSuspended
  set(t, 'I', exactly(4));               // EmptyQueryResponse
  set(t, 't', at_least(4 + 2));          // ParameterDescription: int16 count
  set(t, 'G', at_least(4 + 1 + 2));      // CopyInResponse: format, int16 count
  set(t, 'H', at_least(4 + 1 + 2));      // CopyOutResponse
  set(t, 'W', at_least(4 + 1 + 2));      // CopyBothResponse
  set(t, 'd', at_least(4));              // CopyData
  set(t, 'c', exactly(4));               // CopyDone
  set(t, 'V', at_least(4 + 4));          // FunctionCallResponse: int32 length
  set(t, 'v', at_least(4 + 4 + 4));      // NegotiateProtocolVersion: 2 int32
  return t;
}

constexpr RuleTable kFrontendRules = make_frontend_rules();
constexpr RuleTable kBackendRules = make_backend_rules();

// Kept out of line so that decode_header stays a handful of instructions; errors
// are rare and may allocate.
[[gnu::cold, gnu::noinline]] DecodeStatus header_error(Direction direction, char type,
                                                       std::uint32_t length,
                                                       std::uint32_t max_length,
                                                       TypeRule rule, std::string& error) {
  const std::string quoted = detail::quote_byte(type);
  if (rule.min_length == 0) {
    error = std::string("invalid ") +
            (direction == Direction::kFrontend ? "frontend" : "backend") + " message type " +
            quoted;
  } else if (length < rule.min_length || (rule.exact && length != rule.min_length)) {
    error = "invalid message length " + std::to_string(length) + " for message type " + quoted;
  } else {
    error = "message length " + std::to_string(length) + " for message type " + quoted +
            " exceeds the limit of " + std::to_string(max_length) + " bytes";
  }
  return DecodeStatus::kMalformed;
}

}  // namespace

DecodeStatus decode_header(Direction direction, std::string_view bytes,
                           std::uint32_t max_length, Header& header, std::string& error) {
  if (bytes.size() < kHeaderSize) return DecodeStatus::kIncomplete;
  const char type = bytes[0];
  const std::uint32_t length = read_u32(bytes.data() + 1);
  const RuleTable& rules = direction == Direction::kFrontend ? kFrontendRules : kBackendRules;
  const TypeRule rule = rules[static_cast<unsigned char>(type)];
  // An unknown type (min_length 0) needs its own test: no length is below 0.
  if (rule.min_length == 0 || length < rule.min_length ||
      (rule.exact && length != rule.min_length) || length > max_length) [[unlikely]] {
    return header_error(direction, type, length, max_length, rule, error);
  }
  header.type = type;
  header.length = length;
  return DecodeStatus::kOk;
}

DecodeStatus decode_frame(Direction direction, std::string_view bytes, std::uint32_t max_length,
                          Header& header, std::string_view& body, std::string& error) {
  const DecodeStatus status = decode_header(direction, bytes, max_length, header, error);
  if (status != DecodeStatus::kOk) return status;
  if (bytes.size() < header.frame_size()) return DecodeStatus::kIncomplete;
  body = bytes.substr(kHeaderSize, header.body_size());
  return DecodeStatus::kOk;
}

void append_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}

void append_u16(std::string& out, std::uint16_t v) {
  const char bytes[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 2);
}

void append_string(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

std::size_t begin_message(std::string& out, char type) {
  const std::size_t start = out.size();
  out.push_back(type);
  append_u32(out, 0);
  return start;
}

void finish_message(std::string& out, std::size_t start) {
  // The length counts itself and the body, not the type byte.
  const auto length = static_cast<std::uint32_t>(out.size() - start - 1);
  char* p = out.data() + start + 1;
  p[0] = static_cast<char>(length >> 24);
  p[1] = static_cast<char>(length >> 16);
  p[2] = static_cast<char>(length >> 8);
  p[3] = static_cast<char>(length);
}

}  // namespace pgshim::proxy::codec
