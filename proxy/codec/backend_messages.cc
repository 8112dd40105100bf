// Backend messages of messages.h: RowDescription, ErrorResponse/NoticeResponse,
// ReadyForQuery, BackendKeyData, ParameterStatus, Authentication.
#include <string>

#include "proxy/codec/body_reader.h"
#include "proxy/codec/messages.h"

namespace pgshim::proxy::codec {
namespace {

using detail::BodyReader;
using detail::to_status;

// Name terminator plus the fixed part of a field: table oid, column, type oid,
// type size, type modifier, format.
constexpr std::size_t kMinFieldSize = 1 + 4 + 2 + 4 + 2 + 4 + 2;

bool read_field(BodyReader& r, RowDescription::Field& f) {
  return r.read_string(f.name, "a field name") && r.read_u32(f.table_oid, "a table oid") &&
         r.read_i16(f.column, "a column number") && r.read_u32(f.type_oid, "a type oid") &&
         r.read_i16(f.type_size, "a type size") &&
         r.read_i32(f.type_modifier, "a type modifier") && r.read_i16(f.format, "a format code");
}

// The body size each known authentication code allows: codes whose body is the
// code alone must not carry extra bytes, MD5 carries a 4-byte salt, the others
// carry data of any size.
bool valid_auth_body(AuthCode code, std::size_t size) {
  switch (code) {
    case AuthCode::kOk:
    case AuthCode::kCleartextPassword:
    case AuthCode::kGss:
    case AuthCode::kSspi:
      return size == 4;
    case AuthCode::kMd5Password:
      return size == 8;
    case AuthCode::kGssContinue:
    case AuthCode::kSasl:
    case AuthCode::kSaslContinue:
    case AuthCode::kSaslFinal:
      return true;
  }
  return false;
}

bool known_auth_code(std::uint32_t code) {
  switch (static_cast<AuthCode>(code)) {
    case AuthCode::kOk:
    case AuthCode::kCleartextPassword:
    case AuthCode::kMd5Password:
    case AuthCode::kGss:
    case AuthCode::kGssContinue:
    case AuthCode::kSspi:
    case AuthCode::kSasl:
    case AuthCode::kSaslContinue:
    case AuthCode::kSaslFinal:
      return true;
  }
  return false;
}

}  // namespace

DecodeStatus RowDescription::decode(std::string_view body, RowDescription& out,
                                    std::string& error) {
  BodyReader r(body, "RowDescription message", error);
  std::uint16_t count = 0;
  if (!r.read_count(kMinFieldSize, count, "the field count")) return DecodeStatus::kMalformed;
  out.fields.clear();
  out.fields.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    Field& field = out.fields.emplace_back();
    if (!read_field(r, field)) return DecodeStatus::kMalformed;
  }
  return to_status(r.finish());
}

void RowDescription::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'T');
  append_u16(out, static_cast<std::uint16_t>(fields.size()));
  for (const Field& f : fields) {
    append_string(out, f.name);
    append_u32(out, f.table_oid);
    append_u16(out, static_cast<std::uint16_t>(f.column));
    append_u32(out, f.type_oid);
    append_u16(out, static_cast<std::uint16_t>(f.type_size));
    append_u32(out, static_cast<std::uint32_t>(f.type_modifier));
    append_u16(out, static_cast<std::uint16_t>(f.format));
  }
  finish_message(out, start);
}

DecodeStatus ErrorResponse::decode(std::string_view body, ErrorResponse& out,
                                   std::string& error) {
  BodyReader r(body, "ErrorResponse or NoticeResponse message", error);
  out.fields.clear();
  for (;;) {
    if (r.remaining() == 0) {
      r.fail("the field list has no final zero byte");
      return DecodeStatus::kMalformed;
    }
    std::uint8_t code = 0;
    if (!r.read_u8(code, "a field code")) return DecodeStatus::kMalformed;
    if (code == 0) return to_status(r.finish());
    std::string_view value;
    if (!r.read_string(value, "a field value")) {
      return DecodeStatus::kMalformed;
    }
    out.fields.emplace_back(static_cast<char>(code), std::string(value));
  }
}

void ErrorResponse::encode(std::string& out, char type) const {
  const std::size_t start = begin_message(out, type);
  for (const auto& [code, value] : fields) {
    out.push_back(code);
    append_string(out, value);
  }
  out.push_back('\0');
  finish_message(out, start);
}

std::string_view ErrorResponse::field(char code) const {
  for (const auto& [c, value] : fields) {
    if (c == code) return value;
  }
  return {};
}

ErrorResponse ErrorResponse::make(std::string_view severity, std::string_view sqlstate,
                                  std::string_view message) {
  ErrorResponse e;
  e.fields.reserve(4);
  // S may be localized by a server; V never is. A proxy-made error sets both alike.
  e.fields.emplace_back('S', std::string(severity));
  e.fields.emplace_back('V', std::string(severity));
  e.fields.emplace_back('C', std::string(sqlstate));
  e.fields.emplace_back('M', std::string(message));
  return e;
}

DecodeStatus ReadyForQuery::decode(std::string_view body, ReadyForQuery& out,
                                   std::string& error) {
  BodyReader r(body, "ReadyForQuery message", error);
  std::uint8_t status = 0;
  if (!r.read_u8(status, "the transaction status")) return DecodeStatus::kMalformed;
  if (status != 'I' && status != 'T' && status != 'E') {
    r.fail("transaction status " + detail::quote_byte(static_cast<char>(status)) +
           " is not 'I', 'T' or 'E'");
    return DecodeStatus::kMalformed;
  }
  out.status = static_cast<char>(status);
  return to_status(r.finish());
}

void ReadyForQuery::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'Z');
  out.push_back(status);
  finish_message(out, start);
}

DecodeStatus BackendKeyData::decode(std::string_view body, BackendKeyData& out,
                                    std::string& error) {
  BodyReader r(body, "BackendKeyData message", error);
  return to_status(r.read_u32(out.process_id, "the process id") &&
                   r.read_u32(out.secret_key, "the secret key") && r.finish());
}

void BackendKeyData::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'K');
  append_u32(out, process_id);
  append_u32(out, secret_key);
  finish_message(out, start);
}

DecodeStatus ParameterStatus::decode(std::string_view body, ParameterStatus& out,
                                     std::string& error) {
  BodyReader r(body, "ParameterStatus message", error);
  return to_status(r.read_string(out.name, "the parameter name") &&
                   r.read_string(out.value, "the parameter value") && r.finish());
}

void ParameterStatus::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'S');
  append_string(out, name);
  append_string(out, value);
  finish_message(out, start);
}

DecodeStatus decode_auth_code(std::string_view body, AuthCode& code, std::string& error) {
  BodyReader r(body, "Authentication message", error);
  std::uint32_t raw = 0;
  if (!r.read_u32(raw, "the authentication code")) return DecodeStatus::kMalformed;
  if (!known_auth_code(raw)) {
    r.fail("unsupported authentication request code " + std::to_string(raw));
    return DecodeStatus::kMalformed;
  }
  if (!valid_auth_body(static_cast<AuthCode>(raw), body.size())) {
    r.fail("code " + std::to_string(raw) + " with a body of " + std::to_string(body.size()) +
           " bytes");
    return DecodeStatus::kMalformed;
  }
  code = static_cast<AuthCode>(raw);
  return DecodeStatus::kOk;
}

DecodeStatus AuthenticationSASL::decode(std::string_view body, AuthenticationSASL& out,
                                        std::string& error) {
  BodyReader r(body, "AuthenticationSASL message", error);
  std::uint32_t code = 0;
  if (!r.read_u32(code, "the authentication code")) return DecodeStatus::kMalformed;
  if (code != static_cast<std::uint32_t>(AuthCode::kSasl)) {
    r.fail("code " + std::to_string(code) + " instead of 10");
    return DecodeStatus::kMalformed;
  }
  out.mechanisms.clear();
  for (;;) {
    std::string_view mechanism;
    if (!r.read_string(mechanism, "the mechanism list")) return DecodeStatus::kMalformed;
    if (mechanism.empty()) break;
    out.mechanisms.push_back(mechanism);
  }
  if (out.mechanisms.empty()) {
    r.fail("the mechanism list is empty");
    return DecodeStatus::kMalformed;
  }
  return to_status(r.finish());
}

void AuthenticationSASL::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'R');
  append_u32(out, static_cast<std::uint32_t>(AuthCode::kSasl));
  for (std::string_view mechanism : mechanisms) append_string(out, mechanism);
  out.push_back('\0');
  finish_message(out, start);
}

}  // namespace pgshim::proxy::codec
