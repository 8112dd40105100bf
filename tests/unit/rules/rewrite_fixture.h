// Rules and schemas shared by the rewriter tests: one migration per change
// kind, so each can be put in any phase, and the physical schema each phase
// implies (what DDL has run by then).
#pragma once

#include <string>
#include <vector>

#include "rules/model.h"
#include "rules/rewriter.h"
#include "rules/schema_cache.h"

namespace pgshim::rules::testing {

// Migration indices in fixture_rules().
inline constexpr int kRename = 0;  // users.fullname -> display_name
inline constexpr int kRetype = 1;  // orders.price text -> price_cents bigint
inline constexpr int kAdd = 2;     // users.nickname text, default 'anon'
inline constexpr int kDrop = 3;    // users.legacy_flag boolean, default false
inline constexpr int kRenameTable = 4;  // customer -> customers

inline Migration migration(std::string name, Phase phase, ChangeKind change) {
  Migration m;
  m.name = std::move(name);
  m.phase = phase;
  m.changes.push_back(Change{std::move(change), {}});
  m.file = m.name + ".yaml";
  return m;
}

// All five migrations, each in `phase`.
inline RuleSet fixture_rules(Phase phase) {
  RuleSet rules;
  rules.generation = 1;
  rules.migrations.push_back(migration("rename", phase, RenameColumn{{"", "users"}, "fullname", "display_name"}));
  rules.migrations.push_back(migration(
      "retype", phase,
      RetypeColumn{{"", "orders"}, {"price", "text"}, {"price_cents", "bigint"},
                   "round(price::numeric * 100)::bigint", "(price_cents / 100.0)::numeric(12,2)::text"}));
  rules.migrations.push_back(migration("add", phase, AddColumn{{"", "users"}, {"nickname", "text"}, "'anon'"}));
  rules.migrations.push_back(migration("drop", phase, DropColumn{{"", "users"}, {"legacy_flag", "boolean"}, "false"}));
  rules.migrations.push_back(migration("rename_table", phase, RenameTable{{"", "customer"}, {"", "customers"}}));
  return rules;
}

// The physical schema in `phase` (every migration in the same phase).
inline StaticSchemaCache fixture_schema(Phase phase) {
  const bool expanded = phase != Phase::kPlanned;
  const bool contracted = phase == Phase::kContracted;
  std::vector<ColumnInfo> users{{"id", "integer"}};
  if (!contracted) users.push_back({"fullname", "text"});
  users.push_back({"email", "text"});
  if (!contracted) users.push_back({"legacy_flag", "boolean"});
  if (expanded) users.push_back({"display_name", "text"});
  if (expanded) users.push_back({"nickname", "text"});
  std::vector<ColumnInfo> orders{{"id", "integer"}, {"user_id", "integer"}};
  if (!contracted) orders.push_back({"price", "text"});
  if (expanded) orders.push_back({"price_cents", "bigint"});
  StaticSchemaCache schema;
  schema.add_table("public", "users", users);
  schema.add_table("public", "orders", orders);
  schema.add_table("public", contracted ? "customers" : "customer", {{"id", "integer"}, {"name", "text"}});
  schema.add_table("public", "audit", {{"id", "integer"}, {"note", "text"}});
  return schema;
}

}  // namespace pgshim::rules::testing
