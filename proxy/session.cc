#include "proxy/session.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/log_text.h"
#include "rules/version_match.h"

namespace pgshim::proxy {

using namespace boost::asio::experimental::awaitable_operators;

Session::Session(ServerContext& context, Stream client, asio::any_io_executor executor, SendBatch* sends,
                 std::uint64_t id)
    : context_(context), sends_(sends), client_(std::move(client)), id_(id), deadline_(executor),
      idle_timer_(std::move(executor)) {}

Session::~Session() {
  if (backend_key_) context_.cancels.remove(backend_key_->process_id, backend_key_->secret_key);
  if (counted_) context_.client_connections.fetch_sub(1);
}

asio::awaitable<void> Session::run() {
  auto self = shared_from_this();
  client_.set_no_delay();
  if (!co_await read_startup()) {
    client_.close();
    co_return;
  }
  database_ = std::string(startup_.param("database").empty() ? startup_.param("user")
                                                               : startup_.param("database"));
  std::string option_error;
  if (!rules::parse_version_option(startup_.param("options"), version_option_, option_error)) {
    co_await fail("22023", "pgshim: " + option_error);
    co_return;
  }
  counted_ = true;
  context_.metrics.connections_total.fetch_add(1, std::memory_order_relaxed);
  if (context_.client_connections.fetch_add(1) >= context_.config.max_client_connections) {
    co_await fail("53300", "sorry, too many clients already");
    co_return;
  }
  if (context_.shutting_down.load()) {
    co_await fail("57P03", "the database system is shutting down (pgshim)");
    co_return;
  }
  if (!co_await connect_upstream() || !co_await authenticate()) {
    client_.close();
    if (server_) server_->close();
    co_return;
  }
  spdlog::info("session {}: connected user={} database={} application_name={} tls={} from {}", id_,
               loggable(startup_.param("user"), 64), loggable(startup_.param("database"), 64),
               loggable(startup_.param("application_name"), 64), client_.is_tls(), client_.peer());
  pumping_ = true;
  const auto result = co_await (client_to_server() || server_to_client());
  co_await finish(std::visit([](End e) { return e; }, result));
}

void Session::probe_ends() {
  if (!pumping_) return;
  // An ended stream cancels that side's read, so its pump ends as on end of stream.
  const auto probe = [this](Stream& stream, bool& read_since, const char* side) {
    if (!read_since) return;
    read_since = false;
    if (!stream.peer_has_ended()) return;
    spdlog::debug("session {}: the {}'s stream ended with its last data", id_, side);
    stream.cancel();
  };
  probe(client_, client_read_since_probe_, "client");
  if (server_) probe(*server_, server_read_since_probe_, "server");
}

void Session::request_shutdown(bool now) {
  shutdown_requested_ = true;
  if (!pumping_) {
    if (now) {
      client_.cancel();
      if (server_) server_->cancel();
    }
    return;
  }
  // An idle session has nothing to finish; a busy one ends after its ReadyForQuery.
  if (now || idle()) client_.cancel();
}

asio::awaitable<void> Session::finish(End end) {
  static constexpr const char* kReasons[] = {"client closed",          "server closed",
                                             "client protocol error",  "server protocol error",
                                             "shutdown",               "client idle timeout",
                                             "idle transaction timeout"};
  spdlog::info("session {}: closed ({})", id_, kReasons[static_cast<int>(end)]);
  disarm_idle_timer();
  // A client that vanished with a statement running: the backend would run it to
  // its end for nobody (it notices a closed socket only when it next writes), so
  // it is cancelled, as client_connection_check_interval would.
  const bool cancel = end == End::kClientClosed && (pending_syncs_ > 0 || in_batch_) && backend_key_;
  switch (end) {
    case End::kClientClosed:
      break;
    case End::kClientIdle:
      co_await fail("57P05", fmt::format("pgshim: terminating connection due to client_idle_timeout ({} ms idle)",
                                         context_.config.client_idle_timeout.count()));
      break;
    case End::kTransactionIdle:
      co_await fail("25P03", fmt::format("pgshim: terminating connection due to idle_transaction_timeout "
                                         "({} ms idle in a transaction)",
                                         context_.config.idle_transaction_timeout.count()));
      break;
    case End::kServerClosed:
      context_.metrics.upstream_errors_total.fetch_add(1, std::memory_order_relaxed);
      if (!server_sent_fatal_) {
        co_await fail("08006", "pgshim: the server closed the connection unexpectedly");
      }
      break;
    case End::kClientProtocol:
      co_await fail("08P01", protocol_error_);
      break;
    case End::kServerProtocol:
      context_.metrics.upstream_errors_total.fetch_add(1, std::memory_order_relaxed);
      co_await fail("08P01", "pgshim: invalid message from the server: " + protocol_error_);
      break;
    case End::kShutdown:
      co_await fail("57P01", "terminating connection because pgshim is shutting down");
      break;
  }
  if (server_ && end != End::kServerClosed && !client_cut_mid_frame_) {
    // Terminate lets the server end the backend cleanly instead of logging an EOF.
    static constexpr char kTerminate[] = {'X', 0, 0, 0, 4};
    disarm_deadline();
    arm_deadline(std::chrono::seconds(2));
    co_await server_->write(asio::buffer(kTerminate));
  }
  disarm_deadline();
  client_.close();
  if (server_) server_->close();
  if (cancel) {
    spdlog::info("session {}: the client went away with a statement running: cancelling it", id_);
    arm_deadline(std::chrono::seconds(5));
    co_await send_cancel(backend_key_->process_id, backend_key_->secret_key);
    disarm_deadline();
  }
}

asio::awaitable<bool> Session::fail(std::string_view sqlstate, std::string_view message) {
  if (server_cut_mid_frame_) {
    spdlog::info("session {}: FATAL {} {} (not sent: the client is in the middle of a message)", id_, sqlstate,
                 loggable(message));
    client_.close();
    co_return false;
  }
  std::string out;
  codec::ErrorResponse::make("FATAL", sqlstate, message).encode(out);
  spdlog::info("session {}: FATAL {} {}", id_, sqlstate, loggable(message));
  // A client that does not read must not hold the session open.
  disarm_deadline();
  arm_deadline(std::chrono::seconds(5));
  co_await client_.write(asio::buffer(out));
  disarm_deadline();
  client_.close();
  co_return false;
}

void Session::arm_deadline(std::chrono::milliseconds timeout) {
  timed_out_ = false;
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      self->timed_out_ = true;
      self->client_.cancel();
      if (self->server_) self->server_->cancel();
    }
  });
}

void Session::disarm_deadline() { deadline_.cancel(); }

void Session::arm_idle_timer() {
  disarm_idle_timer();
  const bool in_transaction = tx_status_ != 'I';
  const auto timeout =
      in_transaction ? context_.config.idle_transaction_timeout : context_.config.client_idle_timeout;
  if (timeout.count() <= 0) return;
  idle_armed_ = true;
  idle_timer_.expires_after(timeout);
  idle_timer_.async_wait([weak = weak_from_this(), in_transaction](boost::system::error_code ec) {
    if (ec) return;
    auto self = weak.lock();
    // Client bytes since the ReadyForQuery disarm it; a completion queued just
    // before that is told apart by idle_armed_.
    if (!self || !self->idle_armed_) return;
    self->idle_end_ = in_transaction ? End::kTransactionIdle : End::kClientIdle;
    self->client_.cancel();
  });
}

void Session::disarm_idle_timer() {
  idle_end_.reset();
  if (!idle_armed_) return;
  idle_armed_ = false;
  idle_timer_.cancel();
}

}  // namespace pgshim::proxy
