// parser/-internal: generic traversal of PostgreSQL raw expression nodes, the
// node types raw_expression_tree_walker knows. We do not call that function:
// it ereports (longjmp) on an unknown node and on deep recursion, and nothing
// of ours is set up to catch that; here an unknown node is reported instead.
#pragma once

#include <climits>

#include "parser/pg_headers.h"

namespace pgshim::parser::detail {

// The location field of a node, or -1 when it has none (or it is unknown).
[[nodiscard]] int node_location(const Node* node);

// Calls visit(child, ctx) for every direct child of an expression node. A
// SubLink's sub-select is not a child here: callers treat it as a new query
// level. Returns false for a node type it does not know.
using ChildVisitor = void (*)(Node* child, void* ctx);
[[nodiscard]] bool for_each_child(Node* node, ChildVisitor visit, void* ctx);

// Where an expression's nodes begin in the text: the lowest and highest node
// locations of its subtree, not descending into sub-selects (their parentheses
// bound them), and whether it holds a parameter.
struct Extent {
  int min = INT_MAX;
  int max = -1;
  bool has_param = false;
  bool unknown_node = false;
  bool too_deep = false;
};
[[nodiscard]] Extent extent_of(Node* node);

// Bounds recursion over hostile input; deeper statements are left unchanged.
inline constexpr int kMaxDepth = 1000;

}  // namespace pgshim::parser::detail
