// The admin HTTP listener (DESIGN.md section 4): GET /metrics (Prometheus text
// format), /healthz, and /rules (the rules in force as JSON, with each
// database's disagreements between rules and schema). Plain HTTP/1.1, one
// request per connection, small bounded requests: it is meant for a local
// scraper and an operator's curl, so bind it to loopback or a private network.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/server_context.h"

namespace pgshim::proxy {

struct AdminResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

// The answer to one request; pure apart from reading the context's counters.
[[nodiscard]] AdminResponse admin_response(std::string_view method, std::string_view target,
                                           const ServerContext& context);

// The rules in force and the problems found against each database's schema, as JSON.
[[nodiscard]] std::string rules_json(const ServerContext& context);

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& io, const ServerContext& context) : io_(io), context_(context) {}

  // Binds `where`; returns "" or what failed.
  [[nodiscard]] std::string open(const Endpoint& where);
  void start();
  void close();

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const ServerContext& context_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
};

}  // namespace pgshim::proxy
