// Typed messages of the PostgreSQL protocol 3.0 that the proxy reads or rewrites
// (PostgreSQL documentation, "Message Formats"). Every other message is forwarded
// as bytes.
//
// decode() takes the body only (the bytes after the 5-byte header) and validates
// it completely: every string terminated inside the body, every count backed by
// enough bytes, no trailing bytes. It returns kOk or kMalformed with `error` set to
// a sentence fit for an 08P01 ErrorResponse; it never reads outside the body and
// never throws. Decoded string_views point into the body, which must outlive them.
// encode() appends the whole message, header included, to `out`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/codec/frame.h"

namespace pgshim::proxy::codec {

// --- Frontend ---------------------------------------------------------------

struct Query {  // 'Q'
  std::string_view sql;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Query& out, std::string& error);
  void encode(std::string& out) const;
};

struct Parse {  // 'P'
  std::string_view statement;  // "" = unnamed
  std::string_view query;
  std::vector<std::uint32_t> param_types;  // OIDs, 0 = unspecified
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Parse& out, std::string& error);
  void encode(std::string& out) const;
};

struct Bind {  // 'B'
  std::string_view portal;
  std::string_view statement;
  std::vector<std::int16_t> param_formats;
  // A null parameter has `null` set and an empty value.
  struct Param {
    bool null = false;
    std::string_view value;
  };
  std::vector<Param> params;
  std::vector<std::int16_t> result_formats;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Bind& out, std::string& error);
  void encode(std::string& out) const;
};

struct Describe {  // 'D'
  char kind = 'S';  // 'S' statement or 'P' portal; anything else is malformed
  std::string_view name;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Describe& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

struct Close {  // 'C' from the frontend
  char kind = 'S';  // 'S' or 'P'
  std::string_view name;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Close& out, std::string& error);
  void encode(std::string& out) const;
};

struct Execute {  // 'E' from the frontend
  std::string_view portal;  // "" = unnamed
  std::int32_t max_rows = 0;  // 0 = no limit
  [[nodiscard]] static DecodeStatus decode(std::string_view body, Execute& out, std::string& error);
  void encode(std::string& out) const;
};

// --- Backend ----------------------------------------------------------------

struct RowDescription {  // 'T'
  struct Field {
    std::string_view name;
    std::uint32_t table_oid = 0;
    std::int16_t column = 0;
    std::uint32_t type_oid = 0;
    std::int16_t type_size = 0;
    std::int32_t type_modifier = 0;
    std::int16_t format = 0;
  };
  std::vector<Field> fields;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, RowDescription& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

// ErrorResponse ('E') and NoticeResponse ('N') share this body.
struct ErrorResponse {
  std::vector<std::pair<char, std::string>> fields;  // code ('S','V','C','M','P',...) and value
  [[nodiscard]] static DecodeStatus decode(std::string_view body, ErrorResponse& out,
                                           std::string& error);
  void encode(std::string& out, char type = 'E') const;
  // The value of field `code`, or "" when absent.
  [[nodiscard]] std::string_view field(char code) const;
  // A typical proxy-made error: severity S and V, SQLSTATE C, message M.
  [[nodiscard]] static ErrorResponse make(std::string_view severity, std::string_view sqlstate,
                                          std::string_view message);
};

struct ReadyForQuery {  // 'Z'
  char status = 'I';  // 'I' idle, 'T' in transaction, 'E' failed transaction
  [[nodiscard]] static DecodeStatus decode(std::string_view body, ReadyForQuery& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

struct BackendKeyData {  // 'K'
  std::uint32_t process_id = 0;
  std::uint32_t secret_key = 0;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, BackendKeyData& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

struct ParameterStatus {  // 'S' from the backend
  std::string_view name;
  std::string_view value;
  [[nodiscard]] static DecodeStatus decode(std::string_view body, ParameterStatus& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

// Authentication ('R'): the body starts with a 4-byte code.
enum class AuthCode : std::uint32_t {
  kOk = 0,
  kCleartextPassword = 3,
  kMd5Password = 5,
  kGss = 7,
  kGssContinue = 8,
  kSspi = 9,
  kSasl = 10,
  kSaslContinue = 11,
  kSaslFinal = 12,
};

// Reads the code of an Authentication body (at least 4 bytes). kMalformed for a
// code that is not an AuthCode, and for a body whose size does not fit its code
// (Ok, CleartextPassword, GSS and SSPI carry nothing more; MD5 a 4-byte salt).
[[nodiscard]] DecodeStatus decode_auth_code(std::string_view body, AuthCode& code,
                                            std::string& error);

struct AuthenticationSASL {  // 'R' with code 10
  std::vector<std::string_view> mechanisms;  // non-empty list, each non-empty
  [[nodiscard]] static DecodeStatus decode(std::string_view body, AuthenticationSASL& out,
                                           std::string& error);
  void encode(std::string& out) const;
};

// --- Startup packets (no type byte) ------------------------------------------

inline constexpr std::uint32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr std::uint32_t kSslRequestCode = 80877103;
inline constexpr std::uint32_t kGssEncRequestCode = 80877104;
inline constexpr std::uint32_t kCancelRequestCode = 80877102;
inline constexpr std::uint32_t kMaxStartupPacket = 10000;

struct StartupPacket {
  enum class Kind { kStartup, kSslRequest, kGssEncRequest, kCancelRequest };
  Kind kind = Kind::kStartup;
  std::uint32_t protocol = 0;  // kStartup: major << 16 | minor
  std::vector<std::pair<std::string_view, std::string_view>> params;  // kStartup, in order
  std::uint32_t process_id = 0;  // kCancelRequest
  std::uint32_t secret_key = 0;  // kCancelRequest

  // The value of startup parameter `name`, or "" when absent.
  [[nodiscard]] std::string_view param(std::string_view name) const;
  // Encodes the packet of `kind`: a StartupMessage with `protocol` and `params`,
  // an SSLRequest, a GSSENCRequest, or a CancelRequest with the key.
  void encode(std::string& out) const;
};

// Reads the 4-byte length of a startup packet. kMalformed when it is below 8 or
// above kMaxStartupPacket.
[[nodiscard]] DecodeStatus decode_startup_length(std::string_view bytes, std::uint32_t& length,
                                                 std::string& error);

// Decodes a whole startup packet (length field included). kIncomplete while
// `packet` is shorter than its length field says. kMalformed when it is longer, for
// an unknown request code, a request of the wrong length, a protocol major version
// other than 3, a parameter list without its final terminator, a parameter without
// a value, or a missing "user".
[[nodiscard]] DecodeStatus decode_startup(std::string_view packet, StartupPacket& out,
                                          std::string& error);

}  // namespace pgshim::proxy::codec
