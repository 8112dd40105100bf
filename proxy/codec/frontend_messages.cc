// Frontend messages of messages.h: Query, Parse, Bind, Describe, Close, Execute.
#include <string>

#include "proxy/codec/body_reader.h"
#include "proxy/codec/messages.h"

namespace pgshim::proxy::codec {
namespace {

using detail::BodyReader;
using detail::to_status;

// Describe and Close share their body: a kind byte and a name.
bool read_kind_and_name(BodyReader& r, char& kind, std::string_view& name) {
  std::uint8_t k = 0;
  if (!r.read_u8(k, "the kind byte")) return false;
  if (k != 'S' && k != 'P') {
    return r.fail("kind " + detail::quote_byte(static_cast<char>(k)) +
                  " is neither 'S' (statement) nor 'P' (portal)");
  }
  kind = static_cast<char>(k);
  return r.read_string(name, "the name") && r.finish();
}

void encode_kind_and_name(std::string& out, char type, char kind, std::string_view name) {
  const std::size_t start = begin_message(out, type);
  out.push_back(kind);
  append_string(out, name);
  finish_message(out, start);
}

bool read_formats(BodyReader& r, std::vector<std::int16_t>& formats, std::string_view what) {
  std::uint16_t count = 0;
  if (!r.read_count(2, count, what)) return false;
  formats.clear();
  formats.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    std::int16_t format = 0;
    if (!r.read_i16(format, "a format code")) return false;
    formats.push_back(format);
  }
  return true;
}

void append_formats(std::string& out, const std::vector<std::int16_t>& formats) {
  append_u16(out, static_cast<std::uint16_t>(formats.size()));
  for (std::int16_t format : formats) append_u16(out, static_cast<std::uint16_t>(format));
}

// Each parameter is an Int32 length (-1 for NULL) and that many bytes.
bool read_bind_params(BodyReader& r, std::vector<Bind::Param>& params, std::size_t formats) {
  std::uint16_t count = 0;
  if (!r.read_count(4, count, "the parameter count")) return false;
  // PostgreSQL refuses this too (08P01): one format applies to all parameters, or
  // there is one per parameter.
  if (formats > 1 && formats != count) {
    return r.fail(std::to_string(formats) + " parameter formats for " + std::to_string(count) +
                  " parameters");
  }
  params.clear();
  params.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    std::int32_t length = 0;
    if (!r.read_i32(length, "a parameter length")) return false;
    Bind::Param param;
    if (length == -1) {
      param.null = true;
    } else if (length < 0) {
      return r.fail("parameter " + std::to_string(i + 1) + " has length " +
                    std::to_string(length) + "; only -1 (NULL) may be negative");
    } else if (static_cast<std::size_t>(length) > r.remaining()) {
      return r.fail("parameter " + std::to_string(i + 1) + " has length " +
                    std::to_string(length) + " but only " + std::to_string(r.remaining()) +
                    " bytes remain");
    } else if (!r.read_bytes(static_cast<std::size_t>(length), param.value, "a parameter")) {
      return false;
    }
    params.push_back(param);
  }
  return true;
}

}  // namespace

DecodeStatus Query::decode(std::string_view body, Query& out, std::string& error) {
  BodyReader r(body, "Query message", error);
  return to_status(r.read_string(out.sql, "the query string") && r.finish());
}

void Query::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'Q');
  append_string(out, sql);
  finish_message(out, start);
}

DecodeStatus Parse::decode(std::string_view body, Parse& out, std::string& error) {
  BodyReader r(body, "Parse message", error);
  std::uint16_t count = 0;
  if (!r.read_string(out.statement, "the statement name") ||
      !r.read_string(out.query, "the query string") ||
      !r.read_count(4, count, "the parameter type count")) {
    return DecodeStatus::kMalformed;
  }
  out.param_types.clear();
  out.param_types.reserve(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    std::uint32_t oid = 0;
    if (!r.read_u32(oid, "a parameter type")) return DecodeStatus::kMalformed;
    out.param_types.push_back(oid);
  }
  return to_status(r.finish());
}

void Parse::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'P');
  append_string(out, statement);
  append_string(out, query);
  append_u16(out, static_cast<std::uint16_t>(param_types.size()));
  for (std::uint32_t oid : param_types) append_u32(out, oid);
  finish_message(out, start);
}

DecodeStatus Bind::decode(std::string_view body, Bind& out, std::string& error) {
  BodyReader r(body, "Bind message", error);
  return to_status(r.read_string(out.portal, "the portal name") &&
                   r.read_string(out.statement, "the statement name") &&
                   read_formats(r, out.param_formats, "the parameter format count") &&
                   read_bind_params(r, out.params, out.param_formats.size()) &&
                   read_formats(r, out.result_formats, "the result format count") && r.finish());
}

void Bind::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'B');
  append_string(out, portal);
  append_string(out, statement);
  append_formats(out, param_formats);
  append_u16(out, static_cast<std::uint16_t>(params.size()));
  for (const Param& param : params) {
    if (param.null) {
      append_u32(out, 0xffffffffu);  // -1
    } else {
      append_u32(out, static_cast<std::uint32_t>(param.value.size()));
      out.append(param.value);
    }
  }
  append_formats(out, result_formats);
  finish_message(out, start);
}

DecodeStatus Describe::decode(std::string_view body, Describe& out, std::string& error) {
  BodyReader r(body, "Describe message", error);
  return to_status(read_kind_and_name(r, out.kind, out.name));
}

void Describe::encode(std::string& out) const { encode_kind_and_name(out, 'D', kind, name); }

DecodeStatus Close::decode(std::string_view body, Close& out, std::string& error) {
  BodyReader r(body, "Close message", error);
  return to_status(read_kind_and_name(r, out.kind, out.name));
}

void Close::encode(std::string& out) const { encode_kind_and_name(out, 'C', kind, name); }

DecodeStatus Execute::decode(std::string_view body, Execute& out, std::string& error) {
  BodyReader r(body, "Execute message", error);
  return to_status(r.read_string(out.portal, "the portal name") && r.read_i32(out.max_rows, "the row limit") &&
                   r.finish());
}

void Execute::encode(std::string& out) const {
  const std::size_t start = begin_message(out, 'E');
  append_string(out, portal);
  append_u32(out, static_cast<std::uint32_t>(max_rows));
  finish_message(out, start);
}

}  // namespace pgshim::proxy::codec
