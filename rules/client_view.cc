#include "rules/client_view.h"

#include "parser/identifiers.h"

namespace pgshim::rules {
namespace {

ColumnRead column_read(std::string_view column) { return ColumnRead{ReadKind::kColumn, column, nullptr, {}, {}}; }

// A retype reads through its template; a rename's up/down are the identity.
ColumnRead converted_read(const CompiledColumnChange& c, bool up) {
  const std::string_view source = up ? c.old_name : c.new_name;
  if (c.kind == ColumnChangeKind::kRename) return column_read(source);
  return ColumnRead{ReadKind::kTemplate, source, up ? &c.up : &c.down, up ? c.new_type : c.old_type, {}};
}

ColumnRead default_read(const CompiledColumnChange& c, std::string_view type) {
  return ColumnRead{ReadKind::kDefault, {}, nullptr, type, c.default_sql};
}

// rename/retype: the old column exists until contracted, the new one from expanded.
void rename_slot(ColumnSlot& s, const CompiledColumnChange& c) {
  const bool old_there = s.phase != Phase::kContracted;
  const bool new_there = s.phase != Phase::kPlanned;
  if (old_there) s.owned[0] = c.old_name;
  if (new_there) s.owned[1] = c.new_name;
  if (s.version == ClientVersion::kOld) {
    s.client_name = c.old_name;
    s.read = old_there ? column_read(c.old_name) : converted_read(c, false);
  } else {
    s.client_name = c.new_name;
    // Until backfilled the new column may lag behind: read it from the old one.
    const bool from_old = s.phase == Phase::kPlanned || s.phase == Phase::kExpanded;
    s.read = from_old ? converted_read(c, true) : column_read(c.new_name);
  }
}

ColumnSlot make_slot(const CompiledColumnChange& c, Phase phase, ClientVersion version, bool strict) {
  ColumnSlot s;
  s.change = &c;
  s.phase = phase;
  s.version = version;
  s.strict = strict;
  switch (c.kind) {
    case ColumnChangeKind::kRename:
    case ColumnChangeKind::kRetype:
      rename_slot(s, c);
      break;
    case ColumnChangeKind::kAdd:
      if (phase != Phase::kPlanned) s.owned[0] = c.new_name;
      if (version == ClientVersion::kNew) {
        s.client_name = c.new_name;
        s.read = phase == Phase::kPlanned ? default_read(c, c.new_type) : column_read(c.new_name);
      }
      break;
    case ColumnChangeKind::kDrop:
      if (phase != Phase::kContracted) s.owned[0] = c.old_name;
      if (version == ClientVersion::kOld) {
        s.client_name = c.old_name;
        s.read = phase == Phase::kContracted ? default_read(c, c.old_type) : column_read(c.old_name);
      }
      break;
  }
  return s;
}

void add_target(ColumnWrite& w, std::string_view column, const parser::ExpressionTemplate* tmpl,
                std::string_view source_type, std::string_view result_type) {
  w.targets[static_cast<std::size_t>(w.count++)] = WriteTarget{column, tmpl, source_type, result_type};
}

// rename/retype writes (DESIGN.md section 3): the client's column, the other
// one converted in the phases where both exist.
ColumnWrite rename_write(const ColumnSlot& s) {
  const CompiledColumnChange& c = *s.change;
  const bool retype = c.kind == ColumnChangeKind::kRetype;
  const parser::ExpressionTemplate* up = retype ? &c.up : nullptr;
  const parser::ExpressionTemplate* down = retype ? &c.down : nullptr;
  ColumnWrite w;
  const bool both = s.phase == Phase::kExpanded || s.phase == Phase::kBackfilled;
  if (s.version == ClientVersion::kOld) {
    if (s.phase != Phase::kContracted) add_target(w, c.old_name, nullptr, {}, {});
    if (s.phase != Phase::kPlanned) add_target(w, c.new_name, up, c.old_type, c.new_type);
  } else {
    if (s.phase != Phase::kPlanned) add_target(w, c.new_name, nullptr, {}, {});
    if (both || s.phase == Phase::kPlanned) add_target(w, c.old_name, down, c.new_type, c.old_type);
  }
  return w;
}

ColumnWrite error_write(const char* sqlstate, std::string message) {
  ColumnWrite w;
  w.sqlstate = sqlstate;
  w.message = std::move(message);
  return w;
}

}  // namespace

bool TableView::needs_projection() const {
  for (const ColumnSlot& s : slots) {
    if (!s.client_name.empty() && changed_read(s.client_name) != nullptr) return true;
    for (const std::string_view owned : s.owned) {
      if (!owned.empty() && owned != s.client_name) return true;  // hidden from the client
    }
  }
  return false;
}

const ColumnSlot* TableView::slot_for_client(std::string_view column) const {
  for (const ColumnSlot& s : slots) {
    if (!s.client_name.empty() && s.client_name == column) return &s;
  }
  return nullptr;
}

const ColumnSlot* TableView::slot_owning(std::string_view physical) const {
  for (const ColumnSlot& s : slots) {
    if (s.owned[0] == physical || s.owned[1] == physical) return &s;
  }
  return nullptr;
}

const ColumnSlot* TableView::slot_of_change_column(std::string_view physical) const {
  for (const ColumnSlot& s : slots) {
    if (s.change->old_name == physical || s.change->new_name == physical) return &s;
  }
  return nullptr;
}

const ColumnRead* TableView::changed_read(std::string_view client_column) const {
  const ColumnSlot* s = slot_for_client(client_column);
  if (s == nullptr) return nullptr;
  if (s->read.kind == ReadKind::kColumn && s->read.column == client_column) return nullptr;
  return &s->read;
}

std::optional<bool> TableView::client_has(std::string_view column) const {
  if (slot_for_client(column) != nullptr) return true;
  if (slot_owning(column) != nullptr) return false;  // another version's column
  if (schema == nullptr) return std::nullopt;
  return schema->find(column) != nullptr;
}

ColumnWrite TableView::write(std::string_view client_column) const {
  const ColumnSlot* s = slot_for_client(client_column);
  if (s == nullptr) {
    if (slot_owning(client_column) != nullptr) {
      return error_write(kUndefinedColumn, "column \"" + std::string(client_column) + "\" of relation \"" +
                                               std::string(client_name) + "\" does not exist");
    }
    ColumnWrite plain;
    add_target(plain, client_column, nullptr, {}, {});
    return plain;
  }
  const CompiledColumnChange& c = *s->change;
  ColumnWrite w;
  switch (c.kind) {
    case ColumnChangeKind::kRename:
    case ColumnChangeKind::kRetype:
      return rename_write(*s);
    case ColumnChangeKind::kAdd:
      if (s->phase == Phase::kPlanned) {
        return error_write(kFeatureNotSupported, "pgshim: cannot write " + std::string(client_name) + "." +
                                                     c.new_name + ": column not yet created");
      }
      add_target(w, c.new_name, nullptr, {}, {});
      return w;
    case ColumnChangeKind::kDrop:
      if (s->phase != Phase::kContracted) add_target(w, c.old_name, nullptr, {}, {});
      return w;  // contracted: the write is dropped
  }
  return w;
}

bool TableView::writes_differ() const {
  for (const ColumnSlot& s : slots) {
    if (s.client_name.empty()) continue;
    const ColumnWrite w = write(s.client_name);
    if (w.sqlstate != nullptr || w.count != 1 || w.targets[0].column != s.client_name) return true;
  }
  return false;
}

bool TableView::client_columns(std::vector<ClientColumn>& out) const {
  if (schema == nullptr) return false;
  std::vector<const ColumnSlot*> emitted;
  const auto done = [&](const ColumnSlot* s) {
    for (const ColumnSlot* e : emitted) {
      if (e == s) return true;
    }
    return false;
  };
  for (const ColumnInfo& col : schema->columns) {
    // A column the phase says is gone, or not there yet, can still exist for a
    // while (the old one is dropped after the switch to contracted): it still
    // belongs to its change, never to the client as a column of its own.
    const ColumnSlot* s = slot_of_change_column(col.name);
    if (s == nullptr) {
      out.push_back(ClientColumn{col.name, column_read(col.name)});
    } else if (!s->client_name.empty() && !done(s)) {
      out.push_back(ClientColumn{s->client_name, s->read});
      emitted.push_back(s);
    }
  }
  for (const ColumnSlot& s : slots) {  // columns only the client's version has, in rule order
    if (!s.client_name.empty() && !done(&s)) out.push_back(ClientColumn{s.client_name, s.read});
  }
  return true;
}

std::optional<std::string> TableView::projection(std::string& error) const {
  std::string out;
  std::vector<ClientColumn> columns;
  if (!client_columns(columns)) {
    out = "*";
    for (const ColumnSlot& s : slots) {
      if (s.client_name.empty() || changed_read(s.client_name) == nullptr) continue;
      if (s.owned[0] == s.client_name || s.owned[1] == s.client_name) {
        error = "table \"" + std::string(client_name) + "\" needs its column list in this phase";
        return std::nullopt;
      }
      columns.push_back(ClientColumn{s.client_name, s.read});
    }
  }
  for (const ClientColumn& c : columns) {
    if (!out.empty()) out += ", ";
    append_read(out, c.read, {});
    if (c.read.kind != ReadKind::kColumn || c.read.column != c.name) {
      out += " AS ";
      parser::append_identifier(out, c.name);
    }
  }
  return out;
}

void append_read(std::string& out, const ColumnRead& read, std::string_view qualifier) {
  std::string column;
  if (!qualifier.empty()) (column = qualifier) += '.';
  if (read.kind != ReadKind::kDefault) parser::append_identifier(column, read.column);
  switch (read.kind) {
    case ReadKind::kColumn:
      out += column;
      return;
    case ReadKind::kTemplate:
      out += "((";
      read.tmpl->fill_into(out, column);
      out += ")::";
      out += read.type;
      out += ')';
      return;
    case ReadKind::kDefault:
      out += "((";
      out += read.default_sql;
      out += ")::";
      out += read.type;
      out += ')';
      return;
  }
}

void append_write_value(std::string& out, const WriteTarget& target, std::string_view value) {
  if (target.tmpl == nullptr) {
    out += value;
    return;
  }
  const std::string cast_value = "(" + std::string(value) + ")::" + std::string(target.source_type);
  out += "((";
  target.tmpl->fill_into(out, cast_value);
  out += ")::";
  out += target.result_type;
  out += ')';
}

std::optional<TableView> build_view(const CompiledTable& table, const RewriteRules& rules,
                                    const ClientProfile& profile, const TableInfo* schema) {
  TableView v;
  v.table = &table;
  v.schema = schema;
  v.strict = false;
  v.physical_name = table.old_name.name;
  v.client_name = table.old_name.name;
  if (table.rename_migration >= 0 && profile.is_active(static_cast<std::size_t>(table.rename_migration))) {
    const auto mi = static_cast<std::size_t>(table.rename_migration);
    const CompiledMigration& m = rules.migrations()[mi];
    v.physical_name = m.phase == Phase::kContracted ? table.new_name.name : table.old_name.name;
    v.client_name = profile.version(mi) == ClientVersion::kOld ? table.old_name.name : table.new_name.name;
    v.strict = m.strict;
    v.changes.push_back(AppliedChange{static_cast<std::uint32_t>(mi), table.rename_change});
  }
  for (const CompiledColumnChange& c : table.columns) {
    if (!profile.is_active(c.migration)) continue;
    const CompiledMigration& m = rules.migrations()[c.migration];
    v.slots.push_back(make_slot(c, m.phase, profile.version(c.migration), m.strict));
    v.strict = v.strict || m.strict;
    v.changes.push_back(AppliedChange{c.migration, c.change});
  }
  if (v.changes.empty()) return std::nullopt;
  v.renamed = v.physical_name != v.client_name;
  return v;
}

}  // namespace pgshim::rules
