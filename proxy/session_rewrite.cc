// Rewriting on the wire (DESIGN.md sections 3 and 4): each Query and Parse that
// may touch a rule table goes through the rewrite cache and engine with this
// session's version profile. Rules and schema are taken afresh only at a
// transaction boundary; the schema is read from the catalog on the session's own
// server connection, consumed by the proxy, so no credentials of its own are needed.
#include <chrono>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "proxy/log_text.h"
#include "proxy/session.h"
#include "rules/phase_check.h"
#include "rules/client_profile.h"

namespace pgshim::proxy {
namespace {

const rules::StaticSchemaCache& empty_schema() {
  static const rules::StaticSchemaCache empty;
  return empty;
}

std::string truncate_sql(std::string_view sql) { return loggable(sql, 200); }

// Reads the text columns of a DataRow body; false when it is malformed.
bool read_data_row(std::string_view body, std::vector<std::string>& values) {
  if (body.size() < 2) return false;
  const std::size_t count = codec::read_u16(body.data());
  std::size_t pos = 2;
  for (std::size_t i = 0; i < count; ++i) {
    if (body.size() - pos < 4) return false;
    const auto length = static_cast<std::int32_t>(codec::read_u32(body.data() + pos));
    pos += 4;
    if (length < 0) {
      values.emplace_back();
      continue;
    }
    if (body.size() - pos < static_cast<std::size_t>(length)) return false;
    values.emplace_back(body.substr(pos, static_cast<std::size_t>(length)));
    pos += static_cast<std::size_t>(length);
  }
  return pos == body.size();
}

}  // namespace

void Session::take_snapshot() {
  rules_ = context_.rules->snapshot();
  profile_ = rules::ClientProfile{0, 0};
  schema_ = nullptr;
  broken_migrations_ = 0;
  if (!rules_->rewriter) return;
  profile_ = rules::profile_for(rules_->rules, {std::string(startup_.param("application_name")),
                                               std::string(startup_.param("user")), database_, version_option_});
  if (rules_apply()) {
    spdlog::debug("session {}: rules v{} active=0x{:x} new=0x{:x}", id_, rules_->version, profile_.active,
                  profile_.speaks_new);
  }
}

bool Session::refresh_at_boundary() {
  if (rules_ == nullptr) take_snapshot();
  if (!at_boundary()) return true;
  if (context_.rules->version() != rules_->version) take_snapshot();
  if (!rules_apply()) return true;
  auto cached = context_.rules->schema(database_);
  if (cached == nullptr) return false;
  if (cached == schema_) return true;
  schema_ = std::move(cached);
  broken_migrations_ = 0;
  for (const auto& problem : rules::check_phases(rules_->rules, *schema_)) {
    if (!profile_.is_active(problem.migration)) continue;
    broken_migrations_ |= std::uint64_t{1} << problem.migration;
    broken_reason_ = problem.message;
    spdlog::warn("session {}: {}", id_, problem.message);
  }
  return true;
}

asio::awaitable<bool> Session::read_schema(Output& out) {
  if (!out.empty()) {
    auto [ec, n] = co_await server_->write(out.buffers());
    out.clear();
    if (ec) co_return false;
  }
  std::string query;
  codec::Query{fmt::format("{}; {}", rules::kSchemaCatalogQuery, rules::kSearchPathQuery)}.encode(query);
  catalog_rows_.clear();
  catalog_error_.clear();
  catalog_pending_ = true;
  if (!catalog_done_) catalog_done_ = std::make_unique<asio::steady_timer>(deadline_.get_executor());
  catalog_done_->expires_at(asio::steady_timer::time_point::max());
  auto [ec, n] = co_await server_->write(asio::buffer(query));
  if (ec) co_return false;
  co_await catalog_done_->async_wait(asio::as_tuple(asio::use_awaitable));
  if (catalog_pending_) co_return false;  // the session is ending
  if (!catalog_error_.empty()) {
    spdlog::warn("session {}: cannot read the schema: {}", id_, catalog_error_);
    co_return false;
  }
  auto schema = std::make_shared<rules::StaticSchemaCache>(
      rules::schema_from_catalog(catalog_rows_, catalog_search_path_, catalog_user_));
  context_.rules->set_schema(database_, std::move(schema));
  spdlog::info("session {}: read the schema of database {} ({} columns)", id_, database_, catalog_rows_.size());
  co_return true;
}

bool Session::on_catalog_message(char type, std::string_view body) {
  switch (type) {
    case 'D': {
      std::vector<std::string> values;
      if (!read_data_row(body, values)) {
        protocol_error_ = "malformed DataRow";
        return false;
      }
      // The search_path query answers two columns; the catalog query four or more.
      if (values.size() == 2) {
        catalog_search_path_ = std::move(values[0]);
        catalog_user_ = std::move(values[1]);
      } else if (auto row = rules::catalog_row(std::move(values))) {
        catalog_rows_.push_back(std::move(*row));
      }
      return true;
    }
    case 'E': {
      codec::ErrorResponse m;
      std::string error;
      if (codec::ErrorResponse::decode(body, m, error) != codec::DecodeStatus::kOk) {
        protocol_error_ = error;
        return false;
      }
      catalog_error_ = std::string(m.field('M'));
      return true;
    }
    case 'Z':
      catalog_pending_ = false;
      catalog_done_->cancel();
      return true;
    default:
      return true;  // RowDescription, CommandComplete
  }
}

bool Session::rewrite_frame(std::string_view sql) {
  last_rewrite_ = nullptr;
  last_sent_.clear();
  last_refused_ = false;
  const auto result = rewrite_now(sql);
  if (result == nullptr || result->status == rules::RewriteStatus::kUnchanged) return false;
  if (result->status == rules::RewriteStatus::kRewritten) {
    spdlog::debug("session {}: rewrote [{}] -> [{}]", id_, truncate_sql(sql), truncate_sql(result->sql));
    last_rewrite_ = result;
    last_original_ = std::string(sql);
    last_sent_ = result->sql;
  } else {
    last_sent_ = refuse(result->sqlstate, result->message, sql);
    last_refused_ = true;
  }
  return true;
}

std::shared_ptr<const rules::RewriteResult> Session::rewrite_now(std::string_view sql, bool counted) {
  if (!rules_apply() || !rules_->rewriter->may_touch_rules(sql)) return nullptr;
  const auto started = std::chrono::steady_clock::now();
  auto result = context_.rules->cache().rewrite(*rules_->rewriter, sql, profile_, schema_ ? *schema_ : empty_schema());
  if (counted) context_.metrics.record_rewrite(rules_->rules, *result, std::chrono::steady_clock::now() - started);
  for (const auto& applied : result->applied) {
    if ((broken_migrations_ >> applied.migration) & 1U) {
      return std::make_shared<const rules::RewriteResult>(rules::RewriteResult::error(
          rules::kFeatureNotSupported,
          "pgshim: cannot rewrite a statement whose rule does not match the database: " + broken_reason_));
    }
  }
  return result;
}

std::string Session::text_to_prepare(std::string_view sql, bool& refused) {
  refused = false;
  const auto result = rewrite_now(sql);
  if (result == nullptr || result->status == rules::RewriteStatus::kUnchanged) return std::string(sql);
  if (result->status == rules::RewriteStatus::kRewritten) return result->sql;
  refused = true;
  return refuse(result->sqlstate, result->message, sql);
}

std::string Session::refuse(const std::string& sqlstate, const std::string& message, std::string_view sql) {
  spdlog::info("session {}: refused [{}]: {}", id_, truncate_sql(sql), loggable(message));
  context_.metrics.refusals_total.fetch_add(1, std::memory_order_relaxed);
  std::string marker = fmt::format("PGSHIM_REFUSED_{}_{}", id_, next_marker_++);
  substitutions_.push_back({marker, sqlstate, message, syncs_sent_ + 1});
  return marker;
}

void Session::map_error_position(codec::ErrorResponse& error) const {
  if (in_flight_.empty() || in_flight_.front().rewritten == nullptr) return;
  const auto& statement = in_flight_.front();
  for (auto& [code, value] : error.fields) {
    if (code != 'P') continue;
    const int position = std::atoi(value.c_str());
    value = std::to_string(rules::map_error_position(*statement.rewritten, statement.original, position));
  }
}

}  // namespace pgshim::proxy
