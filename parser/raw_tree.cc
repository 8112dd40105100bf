#include <cstdlib>
#include <string>

#include "parser/raw_tree.h"

namespace pgshim::parser::detail {
RawTree::RawTree(const char* sql) {
  open_ = true;
  context_ = pg_query_enter_memory_context();
  PgQueryInternalParsetreeAndError result = pg_query_raw_parse(sql);
  // Both are malloc'ed outside the memory context.
  std::free(result.stderr_buffer);
  if (result.error != nullptr) {
    error_ = result.error->message != nullptr ? result.error->message : "syntax error";
    pg_query_free_error(result.error);
    return;
  }
  tree_ = result.tree;
}

RawTree::~RawTree() {
  if (!open_) return;
  pg_query_exit_memory_context(context_);
}

}  // namespace pgshim::parser::detail
