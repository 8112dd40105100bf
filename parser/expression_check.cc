#include "parser/expression_check.h"

#include <pg_query.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace pgshim::parser {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kExpressionPrefix = "SELECT (";
constexpr std::string_view kTypePrefix = "SELECT CAST(NULL AS ";

// Owns one pg_query_parse result, so every path frees it.
class ParseResult {
 public:
  explicit ParseResult(const std::string& sql) : result_(pg_query_parse(sql.c_str())) {}
  ~ParseResult() { pg_query_free_parse_result(result_); }
  ParseResult(const ParseResult&) = delete;
  ParseResult& operator=(const ParseResult&) = delete;

  [[nodiscard]] const PgQueryParseResult& get() const { return result_; }

 private:
  PgQueryParseResult result_;
};

// The single target of `SELECT <target>`, or null when the statement is anything
// more than that (a second statement, FROM, WHERE, UNION, an alias...).
const Json* single_target(const Json& tree) {
  const auto stmts = tree.find("stmts");
  if (stmts == tree.end() || !stmts->is_array() || stmts->size() != 1) return nullptr;
  const Json& raw = (*stmts)[0];
  const auto stmt = raw.find("stmt");
  if (stmt == raw.end() || !stmt->is_object() || stmt->size() != 1) return nullptr;
  const auto select = stmt->find("SelectStmt");
  if (select == stmt->end() || !select->is_object()) return nullptr;
  for (const auto& [key, value] : select->items()) {
    if (key == "op" && value != "SETOP_NONE") return nullptr;
    if (key != "targetList" && key != "limitOption" && key != "op") return nullptr;
  }
  const auto targets = select->find("targetList");
  if (targets == select->end() || !targets->is_array() || targets->size() != 1) return nullptr;
  const auto res = (*targets)[0].find("ResTarget");
  if (res == (*targets)[0].end() || res->contains("name") || res->contains("indirection")) {
    return nullptr;
  }
  const auto val = res->find("val");
  return val == res->end() ? nullptr : &*val;
}

struct Walk {
  std::vector<std::pair<int, std::string>> refs;  // (location, name)
  bool has_params = false;
};

void add_column_ref(const Json& ref, Walk& walk) {
  const auto fields = ref.find("fields");
  if (fields == ref.end() || !fields->is_array() || fields->empty()) return;
  const auto string = fields->back().find("String");
  if (string == fields->back().end()) return;  // `t.*`
  const auto sval = string->find("sval");
  if (sval == string->end() || !sval->is_string()) return;
  const auto location = ref.find("location");
  const int at = location != ref.end() && location->is_number_integer() ? location->get<int>() : 0;
  walk.refs.emplace_back(at, sval->get<std::string>());
}

void walk_tree(const Json& node, Walk& walk) {
  if (node.is_array()) {
    for (const Json& child : node) walk_tree(child, walk);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.items()) {
    if (key == "ColumnRef") add_column_ref(value, walk);
    if (key == "ParamRef") walk.has_params = true;
    walk_tree(value, walk);
  }
}

// Parses `prefix + text + suffix`; on a syntax error fills `error` and the offset of
// the error inside `text`.
bool parse_wrapped(std::string_view prefix, std::string_view text, std::string_view suffix,
                   Json& tree, std::string& error, int& offset) {
  if (text.find('\0') != std::string_view::npos) {
    error = "contains a NUL character";
    return false;
  }
  std::string sql(prefix);
  sql.append(text).append(suffix);
  const ParseResult result(sql);
  if (const PgQueryError* failure = result.get().error) {
    error = failure->message != nullptr ? failure->message : "syntax error";
    const int at = failure->cursorpos - 1 - static_cast<int>(prefix.size());
    if (failure->cursorpos > 0) offset = std::clamp(at, 0, static_cast<int>(text.size()));
    return false;
  }
  tree = Json::parse(result.get().parse_tree, nullptr, /*allow_exceptions=*/false);
  if (tree.is_discarded()) {
    error = "the parser returned an unreadable tree";
    return false;
  }
  return true;
}

}  // namespace

ExpressionInfo analyze_sql_expression(std::string_view expr) {
  ExpressionInfo info;
  Json tree;
  if (!parse_wrapped(kExpressionPrefix, expr, ")", tree, info.error, info.error_offset)) {
    return info;
  }
  const Json* target = single_target(tree);
  if (target == nullptr) {
    info.error = "it is not a single expression (it closes its parentheses or adds clauses)";
    return info;
  }
  Walk walk;
  walk_tree(*target, walk);
  std::stable_sort(walk.refs.begin(), walk.refs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& ref : walk.refs) info.column_refs.push_back(std::move(ref.second));
  info.has_params = walk.has_params;
  info.ok = true;
  return info;
}

bool check_sql_expression(std::string_view expr, std::string& error) {
  ExpressionInfo info = analyze_sql_expression(expr);
  if (!info.ok) error = std::move(info.error);
  return info.ok;
}

bool check_sql_type(std::string_view type, std::string& error) {
  Json tree;
  int offset = -1;
  if (!parse_wrapped(kTypePrefix, type, ")", tree, error, offset)) return false;
  const Json* target = single_target(tree);
  const bool is_cast = target != nullptr && target->contains("TypeCast") &&
                       (*target)["TypeCast"].contains("arg") &&
                       (*target)["TypeCast"]["arg"].contains("A_Const");
  if (!is_cast) error = "it is not a single type name";
  return is_cast;
}

}  // namespace pgshim::parser
