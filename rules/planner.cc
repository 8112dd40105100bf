#include "rules/planner.h"

#include <algorithm>

namespace pgshim::rules {

using parser::RelationRef;
using parser::RelationRole;

namespace {

// Marks table `t` built and says whether it already was, without allocating
// for the usual handful of tables.
bool is_built(std::uint64_t& bits, std::vector<bool>& more, std::size_t t) {
  if (t < 64) {
    const bool was = (bits >> t) & 1U;
    bits |= std::uint64_t{1} << t;
    return was;
  }
  if (more.size() <= t) more.resize(t + 1, false);
  const bool was = more[t];
  more[t] = true;
  return was;
}

}  // namespace

Planner::Planner(const RewriteRules& rules, const ClientProfile& profile, const SchemaCache& schema,
                 const parser::Analysis& analysis)
    : rules_(rules), profile_(profile), schema_(schema), analysis_(analysis), model_(analysis.model()) {}

RewriteResult Planner::run() {
  resolve_views();
  if (std::none_of(relation_view_.begin(), relation_view_.end(), [](int v) { return v >= 0; })) {
    return RewriteResult::unchanged();
  }
  check_unsupported();
  find_system_columns();
  for (std::size_t r = 0; r < model_.relations.size() && !failed_; ++r) plan_relation(static_cast<int>(r));
  if (!failed_) plan_column_refs();
  for (std::size_t w = 0; w < model_.writes.size() && !failed_; ++w) plan_conflict(model_.writes[w]);
  kept_params_.assign(model_.writes.size(), {});
  for (std::size_t a = 0; a < model_.assignments.size() && !failed_; ++a) plan_assignments(model_.assignments[a]);
  if (!failed_) plan_kept_params();
  if (failed_) return RewriteResult::error(sqlstate_, message_);
  if (lenient_skip_ || edits_.empty()) return RewriteResult::unchanged();
  auto edited = edits_.apply(analysis_.sql());
  if (!edited) {
    return RewriteResult::error(kFeatureNotSupported,
                                "pgshim: cannot rewrite statement: two rewrites of it overlap");
  }
  RewriteResult result;
  result.status = RewriteStatus::kRewritten;
  result.sql = std::move(edited->text);
  result.mappings = std::move(edited->mappings);
  for (std::size_t v = 0; v < views_.size(); ++v) {
    if (!views_[v]) continue;
    for (const AppliedChange& c : views_[v]->changes) {
      if (std::find(result.applied.begin(), result.applied.end(), c) == result.applied.end()) {
        result.applied.push_back(c);
      }
    }
  }
  return result;
}

void Planner::resolve_views() {
  const auto& tables = rules_.tables();
  views_.assign(tables.size(), std::nullopt);
  std::uint64_t built = 0;  // per compiled table (at most 64 tables are tried lazily)
  std::vector<bool> built_more;
  relation_view_.assign(model_.relations.size(), -1);
  for (std::size_t r = 0; r < model_.relations.size(); ++r) {
    const RelationRef& ref = model_.relations[r];
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const CompiledTable& table = tables[t];
      const int rm = table.rename_migration;
      const bool renamed = rm >= 0 && profile_.is_active(static_cast<std::size_t>(rm));
      const bool speaks_new = renamed && profile_.version(static_cast<std::size_t>(rm)) == ClientVersion::kNew;
      const TableName& client = speaks_new ? table.new_name : table.old_name;
      if (ref.name != client.name) continue;
      if (schema_.resolve_schema(ref.schema, ref.name) != schema_.resolve_schema(client.schema, client.name)) {
        continue;
      }
      if (!is_built(built, built_more, t)) {
        const bool contracted = renamed && rules_.migrations()[static_cast<std::size_t>(rm)].phase == Phase::kContracted;
        const TableName& physical = contracted ? table.new_name : table.old_name;
        const TableInfo* info =
            schema_.find_table(schema_.resolve_schema(physical.schema, physical.name), physical.name);
        views_[t] = build_view(table, rules_, profile_, info);
      }
      if (views_[t]) relation_view_[r] = static_cast<int>(t);
      break;
    }
  }
}

const TableView* Planner::view_of(int relation) const {
  if (relation < 0) return nullptr;
  const int v = relation_view_[static_cast<std::size_t>(relation)];
  return v < 0 ? nullptr : &*views_[static_cast<std::size_t>(v)];
}

bool Planner::is_target(const RelationRef& ref) const {
  switch (ref.role) {
    case RelationRole::kInsertTarget:
    case RelationRole::kUpdateTarget:
    case RelationRole::kDeleteTarget:
    case RelationRole::kMergeTarget:
    case RelationRole::kCopyFrom:
      return true;
    default:
      return false;
  }
}

bool Planner::is_explicit(int relation) const {
  const TableView* view = view_of(relation);
  if (view == nullptr) return false;
  const RelationRef& ref = model_.relations[static_cast<std::size_t>(relation)];
  return is_target(ref) || is_direct_read(ref, *view);
}

// PostgreSQL knows that a table's columns depend on its primary key
// (`SELECT u.id, u.name FROM users u GROUP BY u.id`) but not a sub-select's,
// so a rule table in a grouped query keeps its place and its columns are
// rewritten one by one, as a write target's are. USING and NATURAL joins need
// the client's column names on the table itself, so they keep the sub-select.
//
// The same holds for system columns (ctid, xmin, ... as used for optimistic
// locking), which a sub-select does not have.
bool Planner::is_direct_read(const RelationRef& ref, const TableView& view) const {
  if (ref.role != RelationRole::kRead || ref.scope < 0 || !view.needs_projection()) return false;
  const auto s = static_cast<std::size_t>(ref.scope);
  const parser::Scope& scope = model_.scopes[s];
  const bool system = s < system_scopes_.size() && system_scopes_[s];
  return (scope.grouped || system) && !scope.has_using && ref.tablesample_span.empty();
}

void Planner::find_system_columns() {
  static constexpr std::string_view kSystem[] = {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"};
  for (const parser::ColumnRefSite& site : model_.columns) {
    if (site.star || site.nfields == 0 || site.scope < 0) continue;
    for (const std::string_view name : kSystem) {
      if (site.column() != name) continue;
      if (system_scopes_.size() <= static_cast<std::size_t>(site.scope)) system_scopes_.resize(model_.scopes.size());
      system_scopes_[static_cast<std::size_t>(site.scope)] = true;
    }
  }
}

// A construct the walker could not model makes the whole statement untrusted,
// but only matters when the statement touches a rule.
void Planner::check_unsupported() {
  for (const parser::Unsupported& u : model_.unsupported) {
    for (std::size_t r = 0; r < model_.relations.size(); ++r) {
      const TableView* view = view_of(static_cast<int>(r));
      if (view == nullptr || model_.relations[r].statement != u.statement) continue;
      cannot(*view, u.construct, "not supported by the rewriter");
      return;
    }
  }
}

void Planner::fail(bool strict, const char* sqlstate, std::string message) {
  if (!strict) {
    lenient_skip_ = true;
    return;
  }
  if (failed_) return;
  failed_ = true;
  sqlstate_ = sqlstate;
  message_ = std::move(message);
}

void Planner::cannot(const TableView& view, std::string_view construct, std::string_view reason) {
  std::string message = "pgshim: cannot rewrite ";
  message += construct;
  message += ": ";
  message += reason;
  fail(view.strict, kFeatureNotSupported, std::move(message));
}

std::string Planner::text(parser::Span span) const {
  return std::string(analysis_.sql().substr(span.begin, span.end - span.begin));
}

std::string Planner::render(parser::Span span) {
  auto out = edits_.render(analysis_.sql(), span.begin, span.end);
  if (out) return *std::move(out);
  fail(true, kFeatureNotSupported, "pgshim: cannot rewrite statement: two rewrites of it overlap");
  return text(span);
}

}  // namespace pgshim::rules
