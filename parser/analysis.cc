#include "parser/analysis.h"

#include <cstdint>
#include <string>

#include "parser/raw_tree.h"
#include "parser/tree_walker.h"

namespace pgshim::parser {

Analysis::Analysis(std::string_view sql) : sql_(sql) {
  if (sql_.find('\0') != std::string::npos) {
    error_ = "statement text holds a NUL byte";
    return;
  }
  if (sql_.size() >= UINT32_MAX / 2) {
    error_ = "statement text too long";
    return;
  }
  if (!tokens_.lex(sql_)) {
    error_ = "unterminated quoted string, identifier or comment";
    return;
  }
  tree_ = std::make_unique<detail::RawTree>(sql_.c_str());
  if (!tree_->ok()) {
    error_ = std::string(tree_->error());
    return;
  }
  // Typical OLTP statements fit without regrowth.
  model_.scopes.reserve(8);
  model_.relations.reserve(4);
  model_.columns.reserve(16);
  detail::TreeWalker walker(tokens_, model_);
  int index = 0;
  ListCell* cell;
  foreach (cell, tree_->statements()) walker.statement(lfirst_node(RawStmt, cell), index++);
}

Analysis::~Analysis() = default;

bool parses(std::string_view sql) { return Analysis(sql).ok(); }

}  // namespace pgshim::parser
