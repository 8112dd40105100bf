// The listening side of the proxy: TCP and Unix listeners, one io_context per
// worker thread (sessions are spread round-robin and stay on their thread),
// signals, and graceful shutdown (stop accepting, let sessions reach an idle
// point, close what is left when the grace period ends).
#pragma once

#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/admin.h"
#include "proxy/send_batch.h"
#include "proxy/server_context.h"
#include "proxy/stream.h"

namespace pgshim::proxy {

class Session;

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Opens the listeners; returns "" or a sentence saying what failed.
  [[nodiscard]] std::string open();
  // Serves until SIGTERM or SIGINT and the end of the grace period. Returns the exit code.
  int run();

 private:
  // Accepts clients until the acceptor is closed, each onto the next worker.
  template <typename Acceptor>
  asio::awaitable<void> accept_loop(Acceptor& acceptor);
  asio::io_context& next_worker();
  SendBatch* send_batch_of(const asio::io_context& worker);
  void start_session(Stream client, asio::io_context& worker);
  void on_signal(int signal);
  void begin_shutdown();
  void watch_shutdown();
  void reload_rules();
  void watch_rules();
  // Every second, on each worker, Session::probe_ends for its sessions.
  void watch_ends(std::size_t worker);
  [[nodiscard]] std::string make_tls_contexts();

  ServerContext context_;
  // One per worker, or none (io_uring unavailable, or batch_sends off).
  // Declared first, destroyed last: the workers' handlers may point at them.
  std::vector<std::unique_ptr<SendBatch>> send_batches_;
  std::vector<std::unique_ptr<asio::io_context>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::size_t next_worker_ = 0;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors_;
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::string unix_path_;
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> shutdown_timer_;
  std::unique_ptr<asio::steady_timer> rules_timer_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::unique_ptr<asio::steady_timer>> end_timers_;  // one per worker
  std::chrono::steady_clock::time_point shutdown_deadline_;
  bool forced_ = false;

  std::mutex sessions_mutex_;
  std::unordered_map<std::uint64_t, std::pair<std::weak_ptr<Session>, asio::io_context*>> sessions_;
};

}  // namespace pgshim::proxy
