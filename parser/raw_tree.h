// parser/-internal: ownership of a libpg_query raw parse. Include from
// parser/*.cc only (it brings in PostgreSQL's headers).
//
// libpg_query keeps its memory contexts in thread-local variables, so a
// RawTree is opened, walked and destroyed on one thread. Its context is a
// child of the thread's top context and is current only while the constructor
// parses; pg_query_exit_memory_context switches back to the top context and
// deletes only its own context. So several RawTrees may be alive on one thread
// in any order, and other libpg_query calls (expression checks, deparse) may
// run in between, as long as nothing allocates in between expecting our
// context to be current: the walk only reads the tree.
#pragma once

#include <string>
#include <string_view>

#include "parser/pg_headers.h"

namespace pgshim::parser::detail {

class RawTree {
 public:
  // Parses `sql` (NUL-terminated) into a list of RawStmt.
  explicit RawTree(const char* sql);
  ~RawTree();
  RawTree(const RawTree&) = delete;
  RawTree& operator=(const RawTree&) = delete;

  [[nodiscard]] bool ok() const { return error_.empty() && open_; }
  // The syntax error, or why nothing was parsed; "" when ok().
  [[nodiscard]] std::string_view error() const { return error_; }
  // The statements (RawStmt nodes); valid until destruction.
  [[nodiscard]] List* statements() const { return tree_; }

 private:
  MemoryContext context_ = nullptr;
  List* tree_ = nullptr;
  std::string error_;
  bool open_ = false;
};

}  // namespace pgshim::parser::detail
