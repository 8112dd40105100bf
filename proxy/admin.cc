#include "proxy/admin.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "rules/identifier.h"
#include "rules/names.h"
#include "rules/phase_check.h"
#include "rules/version_match.h"

namespace pgshim::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr std::size_t kMaxRequestBytes = 8 * 1024;
constexpr auto kRequestTimeout = std::chrono::seconds(5);

json column_json(const rules::ColumnSpec& c) { return {{"name", c.name}, {"type", c.type}}; }

json change_json(const rules::Change& change) {
  json out = {{"kind", rules::change_kind_name(change.kind)}, {"target", rules::change_target(change.kind)}};
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, rules::RenameTable>) {
          out["from"] = rules::display_table_name(c.from);
          out["to"] = rules::display_table_name(c.to);
        } else {
          out["table"] = rules::display_table_name(c.table);
          if constexpr (std::is_same_v<T, rules::RenameColumn>) {
            out["from"] = c.from;
            out["to"] = c.to;
          } else if constexpr (std::is_same_v<T, rules::RetypeColumn>) {
            out["from"] = column_json(c.from);
            out["to"] = column_json(c.to);
            out["up"] = c.up;
            out["down"] = c.down;
          } else {
            out["column"] = column_json(c.column);
            out["default"] = c.default_sql;
          }
        }
      },
      change.kind);
  return out;
}

json selector_json(const rules::VersionSelector& s) {
  return {{"application_name", s.application_name}, {"user", s.user}, {"database", s.database}};
}

json migration_json(const rules::Migration& m) {
  json changes = json::array();
  for (const auto& change : m.changes) changes.push_back(change_json(change));
  return {{"name", m.name},
          {"file", m.file},
          {"database", m.database_glob.empty() ? "*" : m.database_glob},
          {"phase", rules::phase_name(m.phase)},
          {"default_version", rules::client_version_name(m.default_version)},
          {"old_selector", selector_json(m.old_selector)},
          {"new_selector", selector_json(m.new_selector)},
          {"strict", m.strict},
          {"changes", std::move(changes)}};
}

}  // namespace

std::string rules_json(const ServerContext& context) {
  const auto snapshot = context.rules->snapshot();
  json migrations = json::array();
  for (const auto& m : snapshot->rules.migrations) migrations.push_back(migration_json(m));
  // Problems are those of the schema each database had when a session last read it.
  json databases = json::array();
  for (const auto& [database, schema] : context.rules->schemas()) {
    json problems = json::array();
    if (schema != nullptr) {
      for (const auto& problem : rules::check_phases(snapshot->rules, *schema)) {
        const auto& migration = snapshot->rules.migrations[problem.migration];
        if (!migration.database_glob.empty() && !rules::glob_match(migration.database_glob, database)) continue;
        problems.push_back({{"migration", migration.name}, {"message", problem.message}});
      }
    }
    databases.push_back({{"name", database}, {"problems", std::move(problems)}});
  }
  json out = {{"version", snapshot->version},
              {"directory", context.config.rules_dir},
              {"migrations", std::move(migrations)},
              {"databases", std::move(databases)},
              {"last_reload_errors", context.rules->last_errors()}};
  return out.dump(2) + "\n";
}

AdminResponse admin_response(std::string_view method, std::string_view target, const ServerContext& context) {
  if (method != "GET") return {405, "text/plain; charset=utf-8", "only GET\n"};
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/metrics") {
    MetricsGauges gauges;
    gauges.client_connections = context.client_connections.load();
    gauges.rules_version = context.rules->version();
    gauges.cache_hits = context.rules->cache().hits();
    gauges.cache_misses = context.rules->cache().misses();
    gauges.cache_entries = context.rules->cache().size();
    return {200, "text/plain; version=0.0.4; charset=utf-8", context.metrics.render(gauges)};
  }
  if (path == "/healthz") {
    if (context.shutting_down.load()) return {503, "text/plain; charset=utf-8", "shutting down\n"};
    return {200, "text/plain; charset=utf-8", "ok\n"};
  }
  if (path == "/rules") return {200, "application/json", rules_json(context)};
  return {404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz or /rules\n"};
}

std::string AdminServer::open(const Endpoint& where) {
  try {
    const tcp::endpoint endpoint(asio::ip::make_address(where.host), where.port);
    acceptor_ = std::make_unique<tcp::acceptor>(io_, endpoint, /*reuse_address=*/true);
  } catch (const boost::system::system_error& e) {
    return fmt::format("cannot listen on {}:{} (admin): {}", where.host, where.port, e.code().message());
  }
  spdlog::info("admin HTTP on {}:{} (/metrics, /healthz, /rules)", where.host, acceptor_->local_endpoint().port());
  return "";
}

void AdminServer::start() {
  if (acceptor_) asio::co_spawn(io_, accept_loop(), asio::detached);
}

void AdminServer::close() {
  boost::system::error_code ec;
  if (acceptor_) acceptor_->close(ec);
}

asio::awaitable<void> AdminServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(kRequestTimeout);
  beast::flat_buffer buffer(kMaxRequestBytes);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxRequestBytes);
  http::response<http::string_body> response;
  auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) co_return;
  if (ec) {
    response.result(http::status::bad_request);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "bad request: " + ec.message() + "\n";
  } else {
    const auto& request = parser.get();
    AdminResponse answer = admin_response(request.method_string(), request.target(), context_);
    response.result(static_cast<unsigned>(answer.status));
    response.set(http::field::content_type, answer.content_type);
    response.body() = std::move(answer.body);
  }
  response.version(11);
  response.keep_alive(false);
  response.prepare_payload();
  stream.expires_after(kRequestTimeout);
  co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace pgshim::proxy
