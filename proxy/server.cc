#include "proxy/server.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/session.h"

namespace pgshim::proxy {
namespace {

// Each client costs two descriptors (its socket and the server's), and a
// PgBouncer user expects max_client_connections to just work, so the soft limit
// is raised to the hard one rather than left at the usual 1,024.
void raise_descriptor_limit(int max_client_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  spdlog::info("file descriptor limit: {} (was {})", limit.rlim_cur, before);
  const rlim_t needed = 2 * static_cast<rlim_t>(max_client_connections) + 64;
  if (limit.rlim_cur < needed) {
    spdlog::warn("the file descriptor limit {} is below the {} that max_client_connections {} needs; "
                 "raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower max_client_connections",
                 limit.rlim_cur, needed, max_client_connections);
  }
}

}  // namespace

Server::Server(Config config) {
  context_.config = std::move(config);
  if (context_.config.threads == 0) context_.config.threads = available_cpus();
  spdlog::info("{} worker thread(s)", context_.config.threads);
  // Each io_context is run by exactly one thread, and only that thread starts,
  // performs or cancels operations on its sockets: their reactor needs no lock
  // per socket. Other threads only post to it (the scheduler keeps its lock) and
  // register the sockets the acceptor hands it (so does the registration).
  for (int i = 0; i < context_.config.threads; ++i) {
    workers_.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  }
  for (auto& worker : workers_) guards_.push_back(asio::make_work_guard(*worker));
  if (context_.config.batch_sends) {
    for (auto& worker : workers_) {
      std::string reason;
      send_batches_.push_back(SendBatch::create(worker->get_executor(), reason));
      if (send_batches_.back() == nullptr) {
        spdlog::warn("io_uring unavailable ({}): each message is sent on its own", reason);
        send_batches_.clear();
        break;
      }
    }
  }
  signals_ = std::make_unique<asio::signal_set>(*workers_.front(), SIGTERM, SIGINT, SIGHUP);
  shutdown_timer_ = std::make_unique<asio::steady_timer>(*workers_.front());
  rules_timer_ = std::make_unique<asio::steady_timer>(*workers_.front());
  for (auto& worker : workers_) end_timers_.push_back(std::make_unique<asio::steady_timer>(*worker));
  std::signal(SIGPIPE, SIG_IGN);
}

Server::~Server() {
  // Asio gives the signals back their default action with the signal set, and
  // the default action of SIGTERM is to kill: a supervisor's repeated SIGTERM
  // arriving while the sessions and workers are torn down would turn the clean
  // exit into one by signal. The process is on its way out; it ignores them.
  signals_.reset();
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  if (!unix_path_.empty()) std::filesystem::remove(unix_path_);
}

std::string Server::make_tls_contexts() {
  const auto& c = context_.config;
  try {
    if (!c.tls_cert.empty()) {
      auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      tls->use_certificate_chain_file(c.tls_cert);
      tls->use_private_key_file(c.tls_key, asio::ssl::context::pem);
      context_.client_tls = std::move(tls);
    }
    auto upstream = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    upstream->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                          asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (c.upstream_tls == UpstreamTls::kVerifyFull) {
      if (c.upstream_ca.empty()) {
        upstream->set_default_verify_paths();
      } else {
        upstream->load_verify_file(c.upstream_ca);
      }
    } else {
      upstream->set_verify_mode(asio::ssl::verify_none);
    }
    context_.upstream_tls = std::move(upstream);
  } catch (const boost::system::system_error& e) {
    return fmt::format("TLS setup failed: {}", e.what());
  }
  return "";
}

std::string Server::open() {
  raise_descriptor_limit(context_.config.max_client_connections);
  if (auto error = make_tls_contexts(); !error.empty()) return error;
  context_.rules = std::make_unique<RulesState>(context_.config.rules_dir);
  if (!context_.config.rules_dir.empty()) {
    const auto errors = context_.rules->reload();
    if (!errors.empty()) {
      std::string all = "invalid rules:";
      for (const auto& e : errors) all += "\n  " + e;
      return all;
    }
    spdlog::info("rules loaded from {}: {} migration(s)", context_.config.rules_dir,
                 context_.rules->snapshot()->rules.migrations.size());
  }
  auto& main = *workers_.front();
  if (!context_.config.admin.empty()) {
    std::string error;
    const auto where = parse_endpoint(context_.config.admin, error);
    if (!where) return "admin: " + error;
    admin_ = std::make_unique<AdminServer>(main, context_);
    if (auto failed = admin_->open(*where); !failed.empty()) return failed;
  }
  for (const auto& endpoint : context_.config.listen) {
    try {
      const tcp::endpoint where(asio::ip::make_address(endpoint.host), endpoint.port);
      auto acceptor = std::make_unique<tcp::acceptor>(main, where, /*reuse_address=*/true);
      spdlog::info("listening on {}:{}", endpoint.host, endpoint.port);
      tcp_acceptors_.push_back(std::move(acceptor));
    } catch (const boost::system::system_error& e) {
      return fmt::format("cannot listen on {}:{}: {}", endpoint.host, endpoint.port, e.code().message());
    }
  }
  if (!context_.config.unix_socket_dir.empty()) {
    const int port = context_.config.listen.empty() ? 5432 : context_.config.listen.front().port;
    unix_path_ = fmt::format("{}/.s.PGSQL.{}", context_.config.unix_socket_dir, port);
    std::error_code ec;
    std::filesystem::remove(unix_path_, ec);
    try {
      unix_acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(
          main, asio::local::stream_protocol::endpoint(unix_path_));
      ::chmod(unix_path_.c_str(), 0777);
      spdlog::info("listening on {}", unix_path_);
    } catch (const boost::system::system_error& e) {
      return fmt::format("cannot listen on {}: {}", unix_path_, e.code().message());
    }
  }
  return "";
}

int Server::run() {
  for (auto& acceptor : tcp_acceptors_) {
    asio::co_spawn(*workers_.front(), accept_loop(*acceptor), asio::detached);
  }
  if (unix_acceptor_) asio::co_spawn(*workers_.front(), accept_loop(*unix_acceptor_), asio::detached);
  if (admin_) admin_->start();
  std::function<void(boost::system::error_code, int)> on_signal_handler;
  on_signal_handler = [this, &on_signal_handler](boost::system::error_code ec, int signal) {
    if (ec) return;
    on_signal(signal);
    if (!context_.shutting_down.load() || signal == SIGHUP) signals_->async_wait(on_signal_handler);
  };
  signals_->async_wait(on_signal_handler);
  if (!context_.config.rules_dir.empty()) watch_rules();
  for (std::size_t i = 0; i < workers_.size(); ++i) watch_ends(i);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    threads.emplace_back([worker = workers_[i].get()] { worker->run(); });
  }
  workers_.front()->run();
  for (auto& thread : threads) thread.join();
  spdlog::info("pgshim stopped");
  return 0;
}

void Server::reload_rules() {
  if (context_.config.rules_dir.empty()) return;
  const auto errors = context_.rules->reload();
  (errors.empty() ? context_.metrics.reloads_total : context_.metrics.reload_failures_total).fetch_add(1);
  if (errors.empty()) {
    const auto snapshot = context_.rules->snapshot();
    spdlog::info("rules v{} in force: {} migration(s)", snapshot->version, snapshot->rules.migrations.size());
    return;
  }
  spdlog::error("rules not reloaded, the previous ones stay in force:");
  for (const auto& e : errors) spdlog::error("  {}", e);
}

// Polls the rules directory so that an edit (or `pgshim phase`) takes effect
// without a signal; one stat per file per second.
void Server::watch_rules() {
  rules_timer_->expires_after(std::chrono::seconds(1));
  rules_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec || context_.shutting_down.load()) return;
    if (context_.rules->directory_changed()) reload_rules();
    watch_rules();
  });
}

void Server::watch_ends(std::size_t worker) {
  end_timers_[worker]->expires_after(std::chrono::seconds(1));
  end_timers_[worker]->async_wait([this, worker](boost::system::error_code ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Session>> mine;
    {
      std::lock_guard lock(sessions_mutex_);
      for (auto& [id, entry] : sessions_) {
        if (entry.second != workers_[worker].get()) continue;
        if (auto session = entry.first.lock()) mine.push_back(std::move(session));
      }
    }
    for (auto& session : mine) session->probe_ends();
    watch_ends(worker);
  });
}

SendBatch* Server::send_batch_of(const asio::io_context& worker) {
  for (std::size_t i = 0; i < send_batches_.size(); ++i) {
    if (workers_[i].get() == &worker) return send_batches_[i].get();
  }
  return nullptr;
}

asio::io_context& Server::next_worker() {
  auto& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  return worker;
}

template <typename Acceptor>
asio::awaitable<void> Server::accept_loop(Acceptor& acceptor) {
  for (;;) {
    auto& worker = next_worker();
    auto [ec, socket] = co_await acceptor.async_accept(worker, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    start_session(Stream(std::move(socket)), worker);
  }
}

void Server::start_session(Stream client, asio::io_context& worker) {
  const auto id = context_.next_session_id.fetch_add(1);
  auto session = std::make_shared<Session>(context_, std::move(client), worker.get_executor(),
                                           send_batch_of(worker), id);
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.emplace(id, std::make_pair(std::weak_ptr<Session>(session), &worker));
  }
  // The completion handler owns the session until its coroutine ends: the coroutine
  // itself holds only `this`, and it may start later, on another thread.
  asio::co_spawn(worker, session->run(), [this, id, session](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("session {}: ended by an unexpected error: {}", id, e.what());
      }
    }
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(id);
  });
}

void Server::on_signal(int signal) {
  if (signal == SIGHUP) {
    spdlog::info("SIGHUP received: reloading the rules");
    reload_rules();
    return;
  }
  if (context_.shutting_down.exchange(true)) return;
  spdlog::info("{} received: no new connections; waiting up to {} ms for sessions to finish",
               signal == SIGTERM ? "SIGTERM" : "SIGINT", context_.config.shutdown_grace.count());
  begin_shutdown();
}

void Server::begin_shutdown() {
  boost::system::error_code ec;
  for (auto& acceptor : tcp_acceptors_) acceptor->close(ec);
  if (unix_acceptor_) unix_acceptor_->close(ec);
  if (!unix_path_.empty()) std::filesystem::remove(unix_path_, ec);
  rules_timer_->cancel();
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [id, entry] : sessions_) {
      asio::post(*entry.second, [weak = entry.first] {
        if (auto session = weak.lock()) session->request_shutdown(false);
      });
    }
  }
  shutdown_deadline_ = std::chrono::steady_clock::now() + context_.config.shutdown_grace;
  watch_shutdown();
}

// Polls until every session has ended, forcing them closed once the grace
// period is over; then releases the workers so that run() returns.
void Server::watch_shutdown() {
  {
    std::lock_guard lock(sessions_mutex_);
    if (sessions_.empty()) {
      signals_->cancel();
      if (admin_) admin_->close();
      for (std::size_t i = 0; i < workers_.size(); ++i) {
        asio::post(*workers_[i], [timer = end_timers_[i].get()] { timer->cancel(); });
      }
      for (auto& guard : guards_) guard.reset();
      return;
    }
    if (!forced_ && std::chrono::steady_clock::now() >= shutdown_deadline_) {
      forced_ = true;
      spdlog::info("grace period over: closing {} sessions", sessions_.size());
      for (auto& [id, entry] : sessions_) {
        asio::post(*entry.second, [weak = entry.first] {
          if (auto session = weak.lock()) session->request_shutdown(true);
        });
      }
    }
  }
  shutdown_timer_->expires_after(std::chrono::milliseconds(50));
  shutdown_timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) watch_shutdown();
  });
}

}  // namespace pgshim::proxy
