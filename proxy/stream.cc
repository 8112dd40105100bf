#include "proxy/stream.h"

#include "proxy/send_pieces.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include <boost/asio/read.hpp>

namespace pgshim::proxy {

void Stream::upgrade_to_tls(asio::ssl::context& context) {
  auto socket = std::move(std::get<tcp::socket>(stream_));
  stream_ = std::make_unique<TlsStream>(std::move(socket), context);
}

tcp::socket& Stream::tcp_layer() {
  if (auto* tls = std::get_if<std::unique_ptr<TlsStream>>(&stream_)) return (*tls)->next_layer();
  return std::get<tcp::socket>(stream_);
}

int Stream::plain_handle() {
  if (auto* u = std::get_if<unix_socket>(&stream_)) return u->native_handle();
  return tcp_layer().native_handle();
}

asio::awaitable<IoResult> Stream::write(std::span<const asio::const_buffer> pieces) {
  boost::system::error_code ec;
  std::size_t sent = 0;
  if (write_at_once(pieces, sent, ec)) co_return IoResult{ec, sent};
  co_return co_await write_rest(pieces, sent);
}

bool Stream::write_at_once(std::span<const asio::const_buffer> pieces, std::size_t& sent,
                           boost::system::error_code& ec) {
  sent = 0;
  if (is_tls()) return false;
  sent = send_now(pieces, ec);
  return ec || sent == asio::buffer_size(pieces);
}

asio::awaitable<IoResult> Stream::write_rest(std::span<const asio::const_buffer> pieces, std::size_t sent) {
  if (is_tls()) co_return co_await asio::async_write(tls(), pieces, kAsTuple);
  // The kernel took part of it: the rest waits until the socket drains.
  std::vector<asio::const_buffer> rest;
  std::size_t skip = sent;
  for (const auto& piece : pieces) {
    if (skip >= piece.size()) {
      skip -= piece.size();
      continue;
    }
    rest.push_back(piece + skip);
    skip = 0;
  }
  auto [wec, wn] = co_await std::visit(
      [&](auto& s) { return asio::async_write(lowest(s), rest, kAsTuple); }, stream_);
  co_return IoResult{wec, sent + wn};
}

asio::awaitable<IoResult> Stream::write(asio::const_buffer buffer) {
  co_return co_await write(std::span<const asio::const_buffer>(&buffer, 1));
}

std::size_t Stream::send_now(std::span<const asio::const_buffer> pieces, boost::system::error_code& ec) {
  const int fd = plain_handle();
  SendPieces iov{};
  const std::size_t count = gather_pieces(pieces, iov);
  if (count == 0) return 0;
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = count;
  for (;;) {
    // send() for the common single buffer spares the kernel copying an iovec array.
    const ssize_t n = count == 1 ? ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL)
                                 : ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
    return 0;
  }
}

std::size_t Stream::read_now(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  ec.clear();
  if (!edge_seen_) {
    ec = asio::error::would_block;
    return 0;
  }
  const int fd = plain_handle();
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      // A stream recv() that returns less than asked has emptied the socket
      // (proxy/drained_read.h): the next edge tells of more.
      if (static_cast<std::size_t>(n) < buffer.size()) edge_seen_ = false;
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      if (buffer.size() > 0) ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      edge_seen_ = false;
      ec = asio::error::would_block;
    } else {
      ec.assign(errno, boost::system::system_category());
    }
    return 0;
  }
}

asio::awaitable<std::tuple<boost::system::error_code>> Stream::wait_readable(EdgeReader& reader) {
  return asio::async_initiate<decltype(kAsTuple), void(boost::system::error_code)>(
      [this, &reader](auto handler) {
        if (auto* u = std::get_if<unix_socket>(&stream_)) {
          start_edge_read(*u, reader, edge_seen_, edge_read_queued_, this, std::move(handler));
        } else {
          start_edge_read(std::get<tcp::socket>(stream_), reader, edge_seen_, edge_read_queued_, this,
                          std::move(handler));
        }
      },
      kAsTuple);
}

bool Stream::end_wait_readable() {
  if (!edge_read_queued_) return false;
  edge_read_queued_ = false;
  if (auto* u = std::get_if<unix_socket>(&stream_)) {
    cancel_edge_read(*u, this);
  } else if (auto* t = std::get_if<tcp::socket>(&stream_)) {
    cancel_edge_read(*t, this);
  }
  return true;
}

bool Stream::peer_has_ended() {
  if (is_tls()) return false;
  const int fd = plain_handle();
  if (fd < 0) return false;
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

void Stream::cancel() {
  edge_read_queued_ = false;
  boost::system::error_code ec;
  if (auto* u = std::get_if<unix_socket>(&stream_)) {
    u->cancel(ec);
  } else {
    tcp_layer().cancel(ec);
  }
}

void Stream::close() {
  edge_read_queued_ = false;
  boost::system::error_code ec;
  if (auto* u = std::get_if<unix_socket>(&stream_)) {
    u->shutdown(unix_socket::shutdown_both, ec);
    u->close(ec);
  } else {
    tcp_layer().shutdown(tcp::socket::shutdown_both, ec);
    tcp_layer().close(ec);
  }
}

std::string Stream::peer() const {
  boost::system::error_code ec;
  if (std::holds_alternative<unix_socket>(stream_)) return "unix socket";
  const tcp::socket& s = std::holds_alternative<tcp::socket>(stream_)
                             ? std::get<tcp::socket>(stream_)
                             : std::get<std::unique_ptr<TlsStream>>(stream_)->next_layer();
  const auto endpoint = s.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void Stream::set_no_delay() {
  if (std::holds_alternative<unix_socket>(stream_)) return;
  boost::system::error_code ec;
  tcp_layer().set_option(tcp::no_delay(true), ec);
}

}  // namespace pgshim::proxy
