#include "rules/identifier.h"

#include <vector>

namespace pgshim::rules {
namespace {

bool is_ident_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}

bool is_ident_cont(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }

// One dot-separated part as written, quotes included.
struct Part {
  std::string_view text;
};

// Splits at dots outside double quotes; reports an unterminated quote.
bool split_parts(std::string_view text, std::vector<Part>& parts, std::string& error) {
  std::size_t start = 0;
  bool in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      in_quotes = !in_quotes;  // a doubled "" inside quotes toggles twice
    } else if (text[i] == '.' && !in_quotes) {
      parts.push_back({text.substr(start, i - start)});
      start = i + 1;
    }
  }
  if (in_quotes) {
    error = "'" + std::string(text) + "' has an unterminated double quote; close it with \"";
    return false;
  }
  parts.push_back({text.substr(start)});
  return true;
}

bool parse_quoted(std::string_view part, std::string& out, std::string& error) {
  // part starts with '"'; split_parts guarantees balanced quotes.
  std::size_t i = 1;
  out.clear();
  while (i < part.size()) {
    if (part[i] == '"') {
      if (i + 1 < part.size() && part[i + 1] == '"') {
        out += '"';
        i += 2;
        continue;
      }
      break;
    }
    out += part[i++];
  }
  if (i + 1 != part.size()) {
    error = "'" + std::string(part) +
            "' has text after its closing double quote; quote the whole name or none of it";
    return false;
  }
  if (out.empty()) {
    error = "'\"\"' is an empty quoted identifier; put a name between the double quotes";
    return false;
  }
  // SQL text ends at a zero byte: no statement can name it.
  if (out.find('\0') != std::string::npos) {
    error = "a quoted identifier contains a zero byte, which no PostgreSQL name can hold; remove it";
    return false;
  }
  return true;
}

bool parse_unquoted(std::string_view part, std::string& out, std::string& error) {
  if (!is_ident_start(part[0])) {
    error = "'" + std::string(part) +
            "' is not a valid unquoted identifier (it must start with a letter or _); "
            "double-quote it if that is its real name";
    return false;
  }
  out.clear();
  for (const char c : part) {
    if (!is_ident_cont(c)) {
      error = "'" + std::string(part) + "' contains '" + std::string(1, c) +
              "', which an unquoted identifier cannot; double-quote it, e.g. '\"" +
              std::string(part) + "\"'";
      return false;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return true;
}

bool parse_part(std::string_view part, std::string_view whole, std::string& out,
                std::string& error) {
  if (part.empty()) {
    error = whole.empty() ? std::string("the name is empty; give a name")
                          : "'" + std::string(whole) +
                                "' has an empty name next to a dot; remove the dot or add the name";
    return false;
  }
  const bool ok =
      part[0] == '"' ? parse_quoted(part, out, error) : parse_unquoted(part, out, error);
  if (ok && out.size() > kMaxIdentifierBytes) {
    error = "'" + std::string(part) +
            "' is longer than 63 bytes, so PostgreSQL would truncate it; use the name the "
            "database really has";
    return false;
  }
  return ok;
}

}  // namespace

bool parse_identifier(std::string_view text, std::string& out, std::string& error) {
  std::vector<Part> parts;
  if (!split_parts(text, parts, error)) return false;
  if (parts.size() != 1) {
    error = "'" + std::string(text) +
            "' is a qualified name; give just the column name (the table is given by 'table')";
    return false;
  }
  return parse_part(parts[0].text, text, out, error);
}

bool parse_table_name(std::string_view text, TableName& out, std::string& error) {
  std::vector<Part> parts;
  if (!split_parts(text, parts, error)) return false;
  if (parts.size() > 2) {
    error = "'" + std::string(text) + "' has too many dots; write table or schema.table";
    return false;
  }
  TableName table;
  if (parts.size() == 2 && !parse_part(parts[0].text, text, table.schema, error)) return false;
  if (!parse_part(parts.back().text, text, table.name, error)) return false;
  out = std::move(table);
  return true;
}

std::string display_identifier(std::string_view name) {
  bool bare = !name.empty() && is_ident_start(name[0]);
  for (const char c : name) {
    bare = bare && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (bare) return std::string(name);
  std::string out = "\"";
  for (const char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string display_table_name(const TableName& table) {
  if (table.schema.empty()) return display_identifier(table.name);
  return display_identifier(table.schema) + "." + display_identifier(table.name);
}

bool may_be_same_table(const TableName& a, const TableName& b) {
  if (a.name != b.name) return false;
  return a.schema.empty() || b.schema.empty() || a.schema == b.schema;
}

}  // namespace pgshim::rules
