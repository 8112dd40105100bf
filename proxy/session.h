// One client connection and its server connection, from the startup packet to
// the last byte (PostgreSQL documentation, "Message Flow").
//
// Phases: startup (SSLRequest / GSSENCRequest / CancelRequest / StartupMessage,
// under a deadline), upstream connect (with optional TLS), authentication relayed
// message by message (the server stays the authority), then two pumps — client to
// server and server to client — that forward bytes as they arrive, holding whole
// only the few messages the proxy must read. All of a session's work runs on one
// io_context thread, so its state needs no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/codec/messages.h"
#include "proxy/server_context.h"
#include "proxy/stream.h"

namespace pgshim::proxy {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerContext& context, Stream client, asio::any_io_executor executor,
          std::uint64_t id);
  ~Session();

  asio::awaitable<void> run();
  // Asks the session to end at its next idle point (SIGTERM); `now` ends it at once.
  void request_shutdown(bool now);
  [[nodiscard]] std::uint64_t id() const { return id_; }

 private:
  // Why the session ended; decides what the client is told.
  enum class End {
    kClientClosed,    // EOF or Terminate from the client
    kServerClosed,    // the server went away: FATAL 08006
    kClientProtocol,  // malformed client message: FATAL 08P01
    kServerProtocol,  // malformed server message: FATAL 08P01
    kShutdown,        // SIGTERM: FATAL 57P01
  };

  asio::awaitable<bool> read_startup();
  asio::awaitable<bool> negotiate_client_tls();
  asio::awaitable<void> forward_cancel(std::uint32_t pid, std::uint32_t key);
  asio::awaitable<bool> connect_upstream();
  asio::awaitable<bool> negotiate_upstream_tls();
  asio::awaitable<bool> authenticate();
  asio::awaitable<bool> relay_auth_message(char type, std::string_view body, bool& done);
  asio::awaitable<bool> read_message(Stream& from, codec::Direction direction, char& type,
                                     std::string& body, std::uint32_t max_length);
  asio::awaitable<bool> read_failed(bool from_server);
  asio::awaitable<End> client_to_server();
  asio::awaitable<End> server_to_client();
  asio::awaitable<void> finish(End end);

  // Answers the client with a FATAL ErrorResponse; returns false for convenience.
  asio::awaitable<bool> fail(std::string_view sqlstate, std::string_view message);
  void arm_deadline(std::chrono::milliseconds timeout);
  void disarm_deadline();
  [[nodiscard]] bool idle() const { return pending_syncs_ == 0 && tx_status_ == 'I'; }
  // Inspects a whole frame sent by the server; false ends the session.
  bool on_server_message(char type, std::string_view body);

  ServerContext& context_;
  Stream client_;
  std::optional<Stream> server_;
  std::uint64_t id_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;

  std::string startup_packet_;  // as the client sent it, forwarded byte for byte
  codec::StartupPacket startup_;
  std::optional<codec::BackendKeyData> backend_key_;

  int pending_syncs_ = 0;  // Query and Sync messages not yet answered by ReadyForQuery
  char tx_status_ = 'I';
  bool shutdown_requested_ = false;
  bool server_sent_fatal_ = false;
  std::string protocol_error_;
  bool counted_ = false;  // counted in context_.client_connections
  bool pumping_ = false;  // authentication done, pumps running
};

}  // namespace pgshim::proxy
