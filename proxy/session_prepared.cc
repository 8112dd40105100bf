// Prepared statements across a phase switch (DESIGN.md section 4): the client's
// statements, made by Parse or by SQL PREPARE, are kept with their original
// text, and one prepared under rules or a schema no longer in force is prepared
// again before its next use: by Close and Parse ahead of the client's Bind,
// Describe or Parse, or, in a simple Query, by `DEALLOCATE name; PREPARE name
// AS ...` placed just before the statement that EXECUTEs it. The replies to what
// the proxy adds are dropped, so the client sees exactly what PostgreSQL answers
// to its own messages; an error of the proxy's PREPARE arrives where the
// client's EXECUTE would have failed, with the transaction in the same state.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "parser/identifiers.h"
#include "parser/prepared_commands.h"
#include "proxy/session.h"

namespace pgshim::proxy {
namespace {

// A statement and portal of the proxy's own, to run a PREPARE in the extended
// protocol; no client can name it in SQL, and its name says whose it is.
constexpr std::string_view kHelper = "pgshim: prepare again";

// `PREPARE name[(types)] AS text`, without a terminator.
std::string sql_prepare(std::string_view name, std::string_view types, std::string_view text) {
  std::string sql = "PREPARE ";
  parser::append_identifier(sql, name);
  if (!types.empty()) sql += fmt::format("({})", types);
  sql += " AS ";
  sql += text;
  return sql;
}

}  // namespace

PrepareStamp Session::stamp() const { return PrepareStamp{rules_ ? rules_->version : 0, schema_generation()}; }

bool Session::send_sql(std::string_view sql, const codec::Parse* parse, Output& out) {
  bool replaced = rewrite_frame(sql);
  last_executes_.clear();
  if (tracks_statements() && !last_refused_) {
    const auto insertions = track_sql(sql, parse != nullptr, out);
    if (!insertions.empty()) {
      splice_into_query(sql, insertions);
      replaced = true;
    }
  }
  if (!replaced) return false;
  std::string encoded;
  if (parse == nullptr) {
    codec::Query{last_sent_}.encode(encoded);
  } else {
    const std::vector<std::uint32_t> no_types;
    codec::Parse{parse->statement, last_sent_, last_refused_ ? no_types : parse->param_types}.encode(encoded);
  }
  out.add(std::move(encoded));
  return true;
}

Session::Insertions Session::track_sql(std::string_view sql, bool in_parse, Output& out) {
  Insertions insertions;
  const PrepareStamp now = stamp();
  const auto keywords = parser::find_prepared_keywords(sql);
  // A Parse that EXECUTEs is looked at even when nothing is stale: it may be bound again later.
  if (!keywords.changes && !(keywords.executes && (in_parse || statements_.any_stale(now)))) return insertions;
  const auto commands = parser::prepared_commands(sql);
  if (!commands) return insertions;
  const std::uint64_t sync = syncs_sent_ + 1;
  for (const parser::PreparedCommand& c : *commands) {
    switch (c.kind) {
      case parser::PreparedCommandKind::kPrepare: {
        PreparedStatement s;
        s.original = c.body;
        s.sql_types = c.types;
        s.from_sql = true;
        s.stamp = now;
        const auto rewritten = rewrite_now(c.body, false);  // sent within the client's statement
        s.sent = rewritten && rewritten->status == rules::RewriteStatus::kRewritten ? rewritten->sql : c.body;
        statements_.sql_prepare(c.name, std::move(s), sync, in_parse);
        break;
      }
      case parser::PreparedCommandKind::kDeallocate:
        if (auto text = stand_in_before_deallocate(c.name, in_parse)) {
          insertions.emplace_back(c.statement_begin, std::move(*text));
        }
        statements_.sql_deallocate(c.name, sync, in_parse);
        break;
      case parser::PreparedCommandKind::kDeallocateAll:
        statements_.sql_deallocate_all("DEALLOCATE ALL", sync, in_parse);
        break;
      case parser::PreparedCommandKind::kDiscardAll: statements_.sql_deallocate_all("DISCARD ALL", sync, in_parse); break;
      case parser::PreparedCommandKind::kExecute:
        if (in_parse) {
          last_executes_.push_back(c.name);
          prepare_again_with_messages(c.name, out);
        } else if (auto text = prepare_again_in_sql(c.name)) {
          insertions.emplace_back(c.statement_begin, std::move(*text));
        }
        break;
    }
  }
  return insertions;
}

// Places the proxy's statements into the Query to send, keeping the map of
// error positions back to the client's text: a position inside what the proxy
// added maps to the start of the statement it was added before.
void Session::splice_into_query(std::string_view sql, const Insertions& insertions) {
  const std::vector<parser::EditMapping> none;
  parser::EditSet edits = parser::replay(last_rewrite_ ? last_rewrite_->mappings : none,
                                         last_sent_.empty() ? sql : std::string_view(last_sent_));
  for (const auto& [at, text] : insertions) edits.insert(at, text);
  auto edited = edits.apply(sql);
  if (!edited) {
    // Not reached: nothing rewrites the inside of an EXECUTE. Never send half of it.
    last_sent_ = refuse(rules::kFeatureNotSupported,
                        "pgshim: cannot prepare again the statements this query executes", sql);
    last_refused_ = true;
    last_rewrite_ = nullptr;
    return;
  }
  auto result = std::make_shared<rules::RewriteResult>();
  result->status = rules::RewriteStatus::kRewritten;
  if (last_rewrite_) result->applied = last_rewrite_->applied;
  result->sql = std::move(edited->text);
  result->mappings = std::move(edited->mappings);
  last_sent_ = result->sql;
  last_original_ = std::string(sql);
  last_rewrite_ = std::move(result);
}

std::optional<std::string> Session::prepare_again_in_sql(std::string_view name) {
  PreparedStatement* p = statements_.find(name);
  const PrepareStamp now = stamp();
  if (p == nullptr || !PreparedStatements::stale(*p, now)) return std::nullopt;
  p->stamp = now;
  bool refused = false;
  std::string text = text_to_prepare(p->original, refused);
  if (!refused && text == p->sent && p->on_server) return std::nullopt;
  const bool typed = std::any_of(p->param_types.begin(), p->param_types.end(), [](std::uint32_t t) { return t != 0; });
  if (!refused && typed) {
    text = refuse(rules::kFeatureNotSupported,
                  fmt::format("pgshim: cannot prepare statement \"{}\" again under the rules now in force: it was "
                              "prepared by a Parse message with parameter type OIDs, which SQL cannot name; use it "
                              "through Bind, or prepare it again with PREPARE",
                              name),
                  p->original);
    refused = true;
  }
  if (refused) {
    // A syntax error would fail the whole Query before any of it runs; executing
    // the marker fails where the client's EXECUTE would, with the marker in the
    // message. The statement stays as it was, to be looked at again next time.
    statements_.prepare_again_later(*p);
    std::string sql = "EXECUTE ";
    parser::append_identifier(sql, text);
    return sql + ";\n";
  }
  spdlog::debug("session {}: preparing statement {} again in SQL under rules v{}", id_, name, now.rules_version);
  const std::uint64_t sync = syncs_sent_ + 1;
  std::string sql;
  if (p->on_server) {
    sql = "DEALLOCATE ";
    parser::append_identifier(sql, name);
    sql += ";\n";
    statements_.expect_own('C', "DEALLOCATE", sync, name, ReplyEffect::kRemoved);
  }
  // A newline first: the text may end in a `--` comment.
  sql += sql_prepare(name, p->sql_types, text) + "\n;\n";
  statements_.expect_own('C', "PREPARE", sync, name, ReplyEffect::kPrepared);
  p->sent = std::move(text);
  return sql;
}

// A statement the proxy deallocated and failed to prepare again is not on the
// server, where the client's DEALLOCATE expects it: a stand-in goes first, so
// that the DEALLOCATE succeeds (or fails) as it would have.
std::optional<std::string> Session::stand_in_before_deallocate(std::string_view name, bool in_parse) {
  const PreparedStatement* p = statements_.find(name);
  if (in_parse || p == nullptr || p->on_server) return std::nullopt;
  statements_.expect_own('C', "PREPARE", syncs_sent_ + 1, name, ReplyEffect::kPrepared);
  return sql_prepare(name, "", "SELECT NULL") + ";\n";
}

void Session::prepare_again_with_messages(std::string_view name, Output& out) {
  if (PreparedStatement* p = statements_.find(name)) prepare_again_with_messages(name, *p, out);
}

void Session::prepare_again_with_messages(std::string_view name, PreparedStatement& statement, Output& out) {
  const PrepareStamp now = stamp();
  if (!PreparedStatements::stale(statement, now)) return;
  statement.stamp = now;
  bool refused = false;
  std::string text = text_to_prepare(statement.original, refused);
  if (!refused && text == statement.sent && statement.on_server) return;
  spdlog::debug("session {}: preparing statement {} again under rules v{}", id_, name, now.rules_version);
  const std::uint64_t sync = syncs_sent_ + 1;
  std::string messages;
  // Close, unlike DEALLOCATE, is no error when the statement is not there.
  codec::Close{'S', name}.encode(messages);
  statements_.expect_own('3', "", sync, name, ReplyEffect::kRemoved);
  if (statement.sql_types.empty() || refused) {
    codec::Parse{name, text, statement.param_types}.encode(messages);
    statements_.expect_own('1', "", sync, name, ReplyEffect::kPrepared);
  } else {
    // Only SQL can name the types of `PREPARE name(types)`: run a PREPARE
    // through a statement and portal of the proxy's, closed again after it.
    const std::string prepare = sql_prepare(name, statement.sql_types, text);
    codec::Close{'S', kHelper}.encode(messages);  // left over if an earlier one failed
    codec::Parse{kHelper, prepare, {}}.encode(messages);
    codec::Bind{kHelper, kHelper, {}, {}, {}}.encode(messages);
    codec::Execute{kHelper, 0}.encode(messages);
    codec::Close{'P', kHelper}.encode(messages);
    codec::Close{'S', kHelper}.encode(messages);
    statements_.expect_own('3', "", sync, kHelper, ReplyEffect::kNone);
    statements_.expect_own('1', "", sync, kHelper, ReplyEffect::kNone);
    statements_.expect_own('2', "", sync, kHelper, ReplyEffect::kNone);
    statements_.expect_own('C', "PREPARE", sync, name, ReplyEffect::kPrepared);
    statements_.expect_own('3', "", sync, kHelper, ReplyEffect::kNone);
    statements_.expect_own('3', "", sync, kHelper, ReplyEffect::kNone);
  }
  out.add(std::move(messages));
  statement.sent = std::move(text);
}

void Session::before_statement_use(std::string_view name, PreparedStatement& statement, Output& out) {
  // A statement whose text is `EXECUTE other` uses `other` when it runs.
  // Preparing again changes a statement's stamp and text, never the map nor `executes`.
  for (const std::string& other : statement.executes) prepare_again_with_messages(other, out);
  prepare_again_with_messages(name, statement, out);
}

void Session::remember_statement(const codec::Parse& parse) {
  if (!tracks_statements()) return;
  if (parse.statement.empty()) {
    statements_.parsed_unnamed(syncs_sent_ + 1);
    return;
  }
  PreparedStatement p;
  p.original = std::string(parse.query);
  p.param_types = parse.param_types;
  p.executes = std::move(last_executes_);
  p.sent = last_sent_.empty() ? p.original : last_sent_;
  p.stamp = stamp();
  statements_.parsed(parse.statement, std::move(p), syncs_sent_ + 1);
}

}  // namespace pgshim::proxy
