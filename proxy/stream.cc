#include "proxy/stream.h"

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

void Stream::cancel() {
  boost::system::error_code ec;
  if (auto* u = std::get_if<unix_socket>(&stream_)) {
    u->cancel(ec);
  } else {
    tcp_layer().cancel(ec);
  }
}

void Stream::close() {
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
