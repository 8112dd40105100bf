// A byte stream to a client or to the server: plain TCP, Unix socket, or TLS over
// TCP. Sessions read and write through it without caring which; the variant keeps
// the hot path free of virtual calls and extra coroutine frames.
#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <span>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/drained_read.h"
#include "proxy/edge_read.h"

namespace pgshim::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using unix_socket = asio::local::stream_protocol::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;
using IoResult = std::tuple<boost::system::error_code, std::size_t>;
inline constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

class Stream {
 public:
  explicit Stream(tcp::socket socket) : stream_(std::move(socket)) {}
  explicit Stream(unix_socket socket) : stream_(std::move(socket)) {}

  // Wraps the TCP socket in TLS; the caller then runs the handshake on tls().
  // Precondition: the stream is plain TCP.
  void upgrade_to_tls(asio::ssl::context& context);
  [[nodiscard]] bool is_tls() const { return std::holds_alternative<std::unique_ptr<TlsStream>>(stream_); }
  [[nodiscard]] bool is_tcp() const { return !std::holds_alternative<unix_socket>(stream_); }
  [[nodiscard]] TlsStream& tls() { return *std::get<std::unique_ptr<TlsStream>>(stream_); }

  // Reads what is there, up to buffer.size() bytes. On a plain socket a short read
  // tells the reactor the socket is empty (proxy/drained_read.h).
  asio::awaitable<IoResult> read_some(asio::mutable_buffer buffer) {
    return std::visit([&](auto& s) { return lowest(s).async_read_some(for_read(s, buffer), kAsTuple); }, stream_);
  }
  // Reading at the socket's edges (proxy/edge_read.h), for the pumps: plain
  // sockets only. read_now() reads what is there without waiting: would_block
  // when the socket is empty, eof at the peer's end; after a short read it
  // answers would_block without a system call until the next edge.
  // wait_readable() calls `reader` at each edge until it returns false;
  // operation_aborted after cancel() or close().
  [[nodiscard]] bool reads_at_edges() const { return !is_tls(); }
  std::size_t read_now(asio::mutable_buffer buffer, boost::system::error_code& ec);
  // True from a short read_now() to the next edge: read_now() would answer
  // would_block without looking.
  [[nodiscard]] bool drained() const { return !edge_seen_; }
  asio::awaitable<std::tuple<boost::system::error_code>> wait_readable(EdgeReader& reader);
  // Ends a wait_readable() from outside its reader, with operation_aborted;
  // false when none is queued (none began, or it has already been ended).
  bool end_wait_readable();
  // The descriptor of the TCP or Unix socket (under TLS, of its TCP layer), for
  // sends made elsewhere (proxy/send_batch.h).
  [[nodiscard]] int plain_handle();
  // Reads exactly buffer.size() bytes.
  asio::awaitable<IoResult> read_exactly(asio::mutable_buffer buffer) {
    return std::visit([&](auto& s) { return asio::async_read(lowest(s), buffer, kAsTuple); }, stream_);
  }
  // Writes all of pieces. On a plain socket it first sends what the kernel takes
  // at once, without the reactor: a forwarded message then costs one sendmsg()
  // and no trip through the event loop; only a remainder waits for the socket.
  asio::awaitable<IoResult> write(std::span<const asio::const_buffer> pieces);
  asio::awaitable<IoResult> write(asio::const_buffer buffer);
  // The same in two steps, for the pumps, which mostly need only the first:
  // sends what the kernel takes at once and returns true when nothing is left
  // to send (all sent, or `ec` set). Otherwise write_rest() sends the rest,
  // waiting for the socket (under TLS, all of it).
  bool write_at_once(std::span<const asio::const_buffer> pieces, std::size_t& sent, boost::system::error_code& ec);
  asio::awaitable<IoResult> write_rest(std::span<const asio::const_buffer> pieces, std::size_t sent);

  // True when the peer has ended its stream, or the connection failed, and no
  // byte is left to read: a peek, nothing consumed. A drained read (see
  // proxy/drained_read.h) cannot see an end that arrived together with the data
  // it read, as no new edge follows it; this finds it. TLS streams read the
  // usual way and answer false.
  [[nodiscard]] bool peer_has_ended();
  // Cancels pending operations (a timeout or the peer's end).
  void cancel();
  // Closes the socket; idempotent, never throws.
  void close();
  [[nodiscard]] std::string peer() const;
  void set_no_delay();

 private:
  static tcp::socket& lowest(tcp::socket& s) { return s; }
  static unix_socket& lowest(unix_socket& s) { return s; }
  static TlsStream& lowest(std::unique_ptr<TlsStream>& s) { return *s; }
  template <typename Socket>
  static DrainedBuffer for_read(Socket&, asio::mutable_buffer b) { return DrainedBuffer(b); }
  static asio::mutable_buffer for_read(std::unique_ptr<TlsStream>&, asio::mutable_buffer b) { return b; }
  tcp::socket& tcp_layer();
  // Sends what the kernel takes now; 0 bytes and no error when the socket is full.
  std::size_t send_now(std::span<const asio::const_buffer> pieces, boost::system::error_code& ec);

  std::variant<tcp::socket, unix_socket, std::unique_ptr<TlsStream>> stream_;
  bool edge_seen_ = true;           // no short read_now() since the last edge
  bool edge_read_queued_ = false;  // a wait_readable() is queued and not yet ended
};

}  // namespace pgshim::proxy
