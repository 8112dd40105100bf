#include "parser/node_walk.h"

namespace pgshim::parser::detail {
namespace {

void visit_list(List* list, ChildVisitor visit, void* ctx) {
  ListCell* cell;
  foreach (cell, list) visit(static_cast<Node*>(lfirst(cell)), ctx);
}

void visit_node(void* child, ChildVisitor visit, void* ctx) {
  if (child != nullptr) visit(static_cast<Node*>(child), ctx);
}

struct ExtentWalk {
  Extent extent;
  int depth = 0;
};

void extend(Node* node, void* raw) {
  auto* walk = static_cast<ExtentWalk*>(raw);
  if (node == nullptr) return;
  if (++walk->depth > kMaxDepth) {
    walk->extent.too_deep = true;
    --walk->depth;
    return;
  }
  const int loc = node_location(node);
  if (loc >= 0) {
    if (loc < walk->extent.min) walk->extent.min = loc;
    if (loc > walk->extent.max) walk->extent.max = loc;
  }
  if (IsA(node, ParamRef)) walk->extent.has_param = true;
  if (!for_each_child(node, extend, walk)) walk->extent.unknown_node = true;
  --walk->depth;
}

}  // namespace

int node_location(const Node* node) {
  if (node == nullptr) return -1;
  switch (nodeTag(node)) {
#define PGSHIM_LOC(type) \
  case T_##type:         \
    return reinterpret_cast<const type*>(node)->location;
    PGSHIM_LOC(A_ArrayExpr) PGSHIM_LOC(A_Const) PGSHIM_LOC(A_Expr) PGSHIM_LOC(BoolExpr)
    PGSHIM_LOC(BooleanTest) PGSHIM_LOC(CaseExpr) PGSHIM_LOC(CaseWhen) PGSHIM_LOC(CoalesceExpr)
    PGSHIM_LOC(CollateClause) PGSHIM_LOC(ColumnRef) PGSHIM_LOC(FuncCall) PGSHIM_LOC(GroupingFunc)
    PGSHIM_LOC(GroupingSet) PGSHIM_LOC(MinMaxExpr) PGSHIM_LOC(NamedArgExpr) PGSHIM_LOC(NullTest)
    PGSHIM_LOC(ParamRef) PGSHIM_LOC(RangeVar) PGSHIM_LOC(ResTarget) PGSHIM_LOC(RowExpr)
    PGSHIM_LOC(SQLValueFunction) PGSHIM_LOC(SetToDefault) PGSHIM_LOC(SortBy) PGSHIM_LOC(SubLink)
    PGSHIM_LOC(TypeCast) PGSHIM_LOC(TypeName) PGSHIM_LOC(WindowDef) PGSHIM_LOC(XmlExpr)
    PGSHIM_LOC(XmlSerialize) PGSHIM_LOC(RangeTableSample) PGSHIM_LOC(RangeTableFunc)
    PGSHIM_LOC(RangeTableFuncCol) PGSHIM_LOC(WithClause) PGSHIM_LOC(CommonTableExpr)
    PGSHIM_LOC(InferClause) PGSHIM_LOC(OnConflictClause) PGSHIM_LOC(ColumnDef)
#undef PGSHIM_LOC
    default:
      return -1;
  }
}

bool for_each_child(Node* node, ChildVisitor visit, void* ctx) {
  switch (nodeTag(node)) {
    case T_SetToDefault: case T_CurrentOfExpr: case T_SQLValueFunction: case T_Integer:
    case T_Float: case T_Boolean: case T_String: case T_BitString: case T_ParamRef:
    case T_A_Const: case T_A_Star: case T_Alias: case T_ColumnRef:
      return true;
    case T_List:
      visit_list(reinterpret_cast<List*>(node), visit, ctx);
      return true;
    case T_GroupingFunc:
      visit_list(castNode(GroupingFunc, node)->args, visit, ctx);
      return true;
    case T_SubLink:
      visit_node(castNode(SubLink, node)->testexpr, visit, ctx);
      return true;
    case T_CaseExpr: {
      auto* c = castNode(CaseExpr, node);
      visit_node(c->arg, visit, ctx);
      visit_list(c->args, visit, ctx);
      visit_node(c->defresult, visit, ctx);
      return true;
    }
    case T_CaseWhen:
      visit_node(castNode(CaseWhen, node)->expr, visit, ctx);
      visit_node(castNode(CaseWhen, node)->result, visit, ctx);
      return true;
    case T_RowExpr:
      visit_list(castNode(RowExpr, node)->args, visit, ctx);
      return true;
    case T_CoalesceExpr:
      visit_list(castNode(CoalesceExpr, node)->args, visit, ctx);
      return true;
    case T_MinMaxExpr:
      visit_list(castNode(MinMaxExpr, node)->args, visit, ctx);
      return true;
    case T_XmlExpr:
      visit_list(castNode(XmlExpr, node)->named_args, visit, ctx);
      visit_list(castNode(XmlExpr, node)->args, visit, ctx);
      return true;
    case T_XmlSerialize:
      visit_node(castNode(XmlSerialize, node)->expr, visit, ctx);
      visit_node(castNode(XmlSerialize, node)->typeName, visit, ctx);
      return true;
    case T_NullTest:
      visit_node(castNode(NullTest, node)->arg, visit, ctx);
      return true;
    case T_BooleanTest:
      visit_node(castNode(BooleanTest, node)->arg, visit, ctx);
      return true;
    case T_A_Expr:
      visit_node(castNode(A_Expr, node)->lexpr, visit, ctx);
      visit_node(castNode(A_Expr, node)->rexpr, visit, ctx);
      return true;
    case T_BoolExpr:
      visit_list(castNode(BoolExpr, node)->args, visit, ctx);
      return true;
    case T_FuncCall: {
      auto* f = castNode(FuncCall, node);
      visit_list(f->args, visit, ctx);
      visit_list(f->agg_order, visit, ctx);
      visit_node(f->agg_filter, visit, ctx);
      visit_node(f->over, visit, ctx);
      return true;
    }
    case T_NamedArgExpr:
      visit_node(castNode(NamedArgExpr, node)->arg, visit, ctx);
      return true;
    case T_A_Indices:
      visit_node(castNode(A_Indices, node)->lidx, visit, ctx);
      visit_node(castNode(A_Indices, node)->uidx, visit, ctx);
      return true;
    case T_A_Indirection:
      visit_node(castNode(A_Indirection, node)->arg, visit, ctx);
      visit_list(castNode(A_Indirection, node)->indirection, visit, ctx);
      return true;
    case T_A_ArrayExpr:
      visit_list(castNode(A_ArrayExpr, node)->elements, visit, ctx);
      return true;
    case T_ResTarget:
      visit_list(castNode(ResTarget, node)->indirection, visit, ctx);
      visit_node(castNode(ResTarget, node)->val, visit, ctx);
      return true;
    case T_MultiAssignRef:
      visit_node(castNode(MultiAssignRef, node)->source, visit, ctx);
      return true;
    case T_TypeCast:
      visit_node(castNode(TypeCast, node)->arg, visit, ctx);
      visit_node(castNode(TypeCast, node)->typeName, visit, ctx);
      return true;
    case T_TypeName:
      visit_list(castNode(TypeName, node)->typmods, visit, ctx);
      visit_list(castNode(TypeName, node)->arrayBounds, visit, ctx);
      return true;
    case T_CollateClause:
      visit_node(castNode(CollateClause, node)->arg, visit, ctx);
      return true;
    case T_SortBy:
      visit_node(castNode(SortBy, node)->node, visit, ctx);
      return true;
    case T_WindowDef: {
      auto* w = castNode(WindowDef, node);
      visit_list(w->partitionClause, visit, ctx);
      visit_list(w->orderClause, visit, ctx);
      visit_node(w->startOffset, visit, ctx);
      visit_node(w->endOffset, visit, ctx);
      return true;
    }
    case T_GroupingSet:
      visit_list(castNode(GroupingSet, node)->content, visit, ctx);
      return true;
    case T_IndexElem:
      visit_node(castNode(IndexElem, node)->expr, visit, ctx);
      return true;
    default:
      return false;
  }
}

Extent extent_of(Node* node) {
  ExtentWalk walk;
  extend(node, &walk);
  return walk.extent;
}

}  // namespace pgshim::parser::detail
