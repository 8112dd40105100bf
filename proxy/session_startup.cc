// The startup phase of a session: startup packets, TLS on both sides, the
// upstream connection and the relayed authentication exchange
// (PostgreSQL documentation, "Start-up" and "SASL Authentication").
#include <algorithm>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "proxy/session.h"

namespace pgshim::proxy {
namespace {

constexpr std::chrono::seconds kAuthenticationTimeout{60};  // PostgreSQL's own default
constexpr std::uint32_t kMaxAuthMessage = 1 << 20;

std::string frame(char type, std::string_view body) {
  std::string out;
  out.reserve(body.size() + codec::kHeaderSize);
  out.push_back(type);
  codec::append_u32(out, static_cast<std::uint32_t>(body.size() + 4));
  out.append(body);
  return out;
}

bool needs_client_response(codec::AuthCode code) {
  using C = codec::AuthCode;
  return code == C::kCleartextPassword || code == C::kMd5Password || code == C::kGss ||
         code == C::kGssContinue || code == C::kSspi || code == C::kSasl ||
         code == C::kSaslContinue;
}

}  // namespace

asio::awaitable<bool> Session::read_startup() {
  arm_deadline(context_.config.startup_timeout);
  for (;;) {
    char length_bytes[4];
    auto [ec, n] = co_await client_.read_exactly(asio::buffer(length_bytes));
    if (ec) {
      if (!timed_out_) co_return false;
      co_return co_await fail("08P01", fmt::format("pgshim: no startup packet received within {} ms",
                                                   context_.config.startup_timeout.count()));
    }
    std::uint32_t length = 0;
    std::string error;
    if (codec::decode_startup_length({length_bytes, 4}, length, error) != codec::DecodeStatus::kOk) {
      co_return co_await fail("08P01", "pgshim: " + error);
    }
    std::string packet(length, '\0');
    std::memcpy(packet.data(), length_bytes, 4);
    std::tie(ec, n) = co_await client_.read_exactly(asio::buffer(packet.data() + 4, length - 4));
    if (ec) {
      if (!timed_out_) co_return false;
      co_return co_await fail("08P01", "pgshim: timeout while reading the startup packet");
    }
    codec::StartupPacket p;
    if (codec::decode_startup(packet, p, error) != codec::DecodeStatus::kOk) {
      // An unsupported protocol version is feature_not_supported, as PostgreSQL says.
      const std::uint32_t major = codec::read_u32(packet.data() + 4) >> 16;
      const bool version = major != 3 && major != (codec::kSslRequestCode >> 16);
      co_return co_await fail(version ? "0A000" : "08P01", "pgshim: " + error);
    }
    switch (p.kind) {
      case codec::StartupPacket::Kind::kSslRequest:
        if (!co_await negotiate_client_tls()) co_return false;
        continue;
      case codec::StartupPacket::Kind::kGssEncRequest: {
        static constexpr char kNo = 'N';
        std::tie(ec, n) = co_await client_.write(asio::buffer(&kNo, 1));
        if (ec) co_return false;
        continue;
      }
      case codec::StartupPacket::Kind::kCancelRequest:
        disarm_deadline();
        co_await forward_cancel(p.process_id, p.secret_key);
        co_return false;
      case codec::StartupPacket::Kind::kStartup:
        startup_packet_ = std::move(packet);
        // Re-decode so that the parameter views point into the kept copy.
        (void)codec::decode_startup(startup_packet_, startup_, error);
        disarm_deadline();
        co_return true;
    }
  }
}

asio::awaitable<bool> Session::negotiate_client_tls() {
  if (client_.is_tls()) co_return co_await fail("08P01", "pgshim: SSLRequest on an encrypted connection");
  const bool offer = context_.client_tls != nullptr && client_.is_tcp();
  const char answer = offer ? 'S' : 'N';
  auto [ec, n] = co_await client_.write(asio::buffer(&answer, 1));
  if (ec) co_return false;
  if (!offer) co_return true;
  // Startup packets are read exactly, so no plaintext byte can be buffered here
  // and then treated as if it had come through TLS.
  client_.upgrade_to_tls(*context_.client_tls);
  auto [hs] = co_await client_.tls().async_handshake(asio::ssl::stream_base::server,
                                                     asio::as_tuple(asio::use_awaitable));
  if (hs) {
    spdlog::info("session {}: TLS handshake with {} failed: {}", id_, client_.peer(), hs.message());
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Session::forward_cancel(std::uint32_t pid, std::uint32_t key) {
  if (!context_.cancels.contains(pid, key)) {
    spdlog::info("session {}: ignored a CancelRequest for an unknown backend", id_);
    client_.close();
    co_return;
  }
  client_.close();
  co_await send_cancel(pid, key);
}

// Sends a CancelRequest on a new server connection (a CancelRequest is only ever
// the first packet of a connection); the session's own one, if any, is closed first.
asio::awaitable<void> Session::send_cancel(std::uint32_t pid, std::uint32_t key) {
  if (server_) server_->close();
  server_.reset();
  if (!co_await connect_upstream()) co_return;
  std::string packet;
  codec::append_u32(packet, 16);
  codec::append_u32(packet, codec::kCancelRequestCode);
  codec::append_u32(packet, pid);
  codec::append_u32(packet, key);
  co_await server_->write(asio::buffer(packet));
  // The server closes the connection once it has read the request.
  char ignored;
  co_await server_->read_some(asio::buffer(&ignored, 1));
  server_->close();
  spdlog::info("session {}: forwarded a CancelRequest to backend {}", id_, pid);
}

asio::awaitable<bool> Session::connect_upstream() {
  const auto& upstream = context_.config.upstream;
  auto executor = co_await asio::this_coro::executor;
  if (!upstream.unix_path.empty()) {
    unix_socket socket(executor);
    auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(upstream.unix_path),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
      spdlog::warn("session {}: cannot connect to {}: {}", id_, upstream.unix_path, ec.message());
      context_.metrics.upstream_errors_total.fetch_add(1, std::memory_order_relaxed);
      co_return co_await fail("08006", "pgshim: cannot connect to the server: " + ec.message());
    }
    server_.emplace(std::move(socket));
    co_return true;
  }
  tcp::socket socket(executor);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(upstream.host, ec);
  if (!ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, upstream.port),
                                                 asio::as_tuple(asio::use_awaitable));
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(upstream.host, std::to_string(upstream.port),
                                                          asio::as_tuple(asio::use_awaitable));
    ec = rec;
    if (!ec) std::tie(ec, std::ignore) = co_await asio::async_connect(socket, results, asio::as_tuple(asio::use_awaitable));
  }
  if (ec) {
    spdlog::warn("session {}: cannot connect to {}:{}: {}", id_, upstream.host, upstream.port, ec.message());
    context_.metrics.upstream_errors_total.fetch_add(1, std::memory_order_relaxed);
    co_return co_await fail("08006", "pgshim: cannot connect to the server: " + ec.message());
  }
  server_.emplace(std::move(socket));
  server_->set_no_delay();
  if (context_.config.upstream_tls == UpstreamTls::kDisable) co_return true;
  co_return co_await negotiate_upstream_tls();
}

asio::awaitable<bool> Session::negotiate_upstream_tls() {
  const auto mode = context_.config.upstream_tls;
  std::string request;
  codec::append_u32(request, 8);
  codec::append_u32(request, codec::kSslRequestCode);
  auto [ec, n] = co_await server_->write(asio::buffer(request));
  char answer = 0;
  if (!ec) std::tie(ec, n) = co_await server_->read_exactly(asio::buffer(&answer, 1));
  if (ec) co_return co_await fail("08006", "pgshim: the server closed the connection during TLS negotiation");
  if (answer == 'N') {
    if (mode == UpstreamTls::kPrefer) co_return true;
    co_return co_await fail("08006", "pgshim: the server does not support TLS, which upstream_tls requires");
  }
  if (answer != 'S') co_return co_await fail("08P01", "pgshim: invalid answer from the server to SSLRequest");
  server_->upgrade_to_tls(*context_.upstream_tls);
  const auto& host = context_.config.upstream.host;
  if (mode == UpstreamTls::kVerifyFull) {
    server_->tls().set_verify_mode(asio::ssl::verify_peer);
    server_->tls().set_verify_callback(asio::ssl::host_name_verification(host));
    SSL_set_tlsext_host_name(server_->tls().native_handle(), host.c_str());
  }
  auto [hs] = co_await server_->tls().async_handshake(asio::ssl::stream_base::client,
                                                      asio::as_tuple(asio::use_awaitable));
  if (hs) {
    spdlog::warn("session {}: TLS handshake with the server failed: {}", id_, hs.message());
    co_return co_await fail("08006", "pgshim: TLS handshake with the server failed: " + hs.message());
  }
  co_return true;
}

asio::awaitable<bool> Session::authenticate() {
  auto [ec, n] = co_await server_->write(asio::buffer(startup_packet_));
  if (ec) co_return co_await fail("08006", "pgshim: the server closed the connection during startup");
  arm_deadline(kAuthenticationTimeout);
  for (;;) {
    char type = 0;
    std::string body;
    if (!co_await read_message(*server_, codec::Direction::kBackend, type, body, kMaxAuthMessage)) {
      co_return false;
    }
    bool done = false;
    if (!co_await relay_auth_message(type, body, done)) co_return false;
    if (done) {
      disarm_deadline();
      co_return true;
    }
  }
}

// Forwards one server message of the authentication exchange, and the client's
// answer when the server asks for one. Auth messages are never logged.
asio::awaitable<bool> Session::relay_auth_message(char type, std::string_view body, bool& done) {
  std::string out;
  if (type == 'E') {
    server_sent_fatal_ = true;
    co_await client_.write(asio::buffer(frame(type, body)));
    client_.close();
    co_return false;
  }
  if (type == 'N' || type == 'v') {
    auto [ec, n] = co_await client_.write(asio::buffer(frame(type, body)));
    co_return !ec;
  }
  if (type != 'R') co_return co_await fail("08P01", fmt::format("pgshim: unexpected message '{}' from the server during authentication", type));
  codec::AuthCode code{};
  std::string error;
  if (codec::decode_auth_code(body, code, error) != codec::DecodeStatus::kOk) {
    co_return co_await fail("08P01", "pgshim: invalid message from the server: " + error);
  }
  codec::AuthenticationSASL sasl;
  if (code == codec::AuthCode::kSasl && client_.is_tls()) {
    // Channel binding ties the exchange to one TLS connection; the client's ends at
    // the proxy, so offering SCRAM-SHA-256-PLUS would always fail.
    if (codec::AuthenticationSASL::decode(body, sasl, error) != codec::DecodeStatus::kOk) {
      co_return co_await fail("08P01", "pgshim: invalid message from the server: " + error);
    }
    std::erase(sasl.mechanisms, std::string_view("SCRAM-SHA-256-PLUS"));
    if (sasl.mechanisms.empty()) co_return co_await fail("28000", "pgshim: the server offers only SASL channel binding, which cannot cross a proxy");
    sasl.encode(out);
  } else {
    out = frame(type, body);
  }
  auto [ec, n] = co_await client_.write(asio::buffer(out));
  if (ec) co_return false;
  if (code == codec::AuthCode::kOk) {
    done = true;
    co_return true;
  }
  if (!needs_client_response(code)) co_return true;
  char answer_type = 0;
  std::string answer;
  if (!co_await read_message(client_, codec::Direction::kFrontend, answer_type, answer, kMaxAuthMessage)) {
    co_return false;
  }
  if (answer_type != 'p') co_return co_await fail("08P01", "pgshim: expected a password or SASL response message");
  std::tie(ec, n) = co_await server_->write(asio::buffer(frame(answer_type, answer)));
  co_return !ec;
}

asio::awaitable<bool> Session::read_message(Stream& from, codec::Direction direction, char& type,
                                            std::string& body, std::uint32_t max_length) {
  char header_bytes[codec::kHeaderSize];
  auto [ec, n] = co_await from.read_exactly(asio::buffer(header_bytes));
  const bool from_server = direction == codec::Direction::kBackend;
  if (ec) co_return co_await read_failed(from_server);
  codec::Header header;
  std::string error;
  if (codec::decode_header(direction, {header_bytes, codec::kHeaderSize}, max_length, header, error) !=
      codec::DecodeStatus::kOk) {
    co_return co_await fail("08P01", (from_server ? "pgshim: invalid message from the server: " : "pgshim: ") + error);
  }
  type = header.type;
  body.resize(header.body_size());
  std::tie(ec, n) = co_await from.read_exactly(asio::buffer(body));
  if (ec) co_return co_await read_failed(from_server);
  co_return true;
}

asio::awaitable<bool> Session::read_failed(bool from_server) {
  if (timed_out_) co_return co_await fail("08P01", "pgshim: authentication timed out");
  if (from_server) {
    co_return co_await fail("08006", "pgshim: the server closed the connection during authentication");
  }
  co_return false;
}

}  // namespace pgshim::proxy
