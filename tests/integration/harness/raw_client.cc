#include "tests/integration/harness/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace pgshim::testing {

std::string RawMessage::error_field(char code) const {
  std::size_t pos = 0;
  while (pos < body.size() && body[pos] != '\0') {
    const char field = body[pos++];
    const auto end = body.find('\0', pos);
    if (end == std::string::npos) return "";
    if (field == code) return body.substr(pos, end - pos);
    pos = end + 1;
  }
  return "";
}

RawClient::RawClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

bool RawClient::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool RawClient::wait_readable(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

std::optional<std::string> RawClient::read_bytes(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return std::nullopt;
    char buf[65536];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) return std::nullopt;
    pending_.append(buf, static_cast<std::size_t>(got));
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::optional<RawMessage> RawClient::read(std::chrono::milliseconds timeout) {
  auto header = read_bytes(5, timeout);
  if (!header) return std::nullopt;
  const auto* u = reinterpret_cast<const unsigned char*>(header->data() + 1);
  const std::uint32_t length = (u[0] << 24) | (u[1] << 16) | (u[2] << 8) | u[3];
  if (length < 4) return std::nullopt;
  auto body = read_bytes(length - 4, timeout);
  if (!body) return std::nullopt;
  return RawMessage{(*header)[0], std::move(*body)};
}

std::optional<std::string> RawClient::read_until_closed(std::size_t max, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  while (out.size() <= max) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return std::nullopt;
    char buf[65536];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) return out;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return std::nullopt;
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return false;
    char buf[4096];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) return true;
  }
}

bool RawClient::startup(const std::string& user, const std::string& database,
                        const std::string& application_name) {
  std::vector<std::pair<std::string, std::string>> params = {{"user", user}, {"database", database}};
  if (!application_name.empty()) params.emplace_back("application_name", application_name);
  if (!send(startup_packet(params))) return false;
  for (;;) {
    auto m = read();
    if (!m || m->type == 'E') return false;
    if (m->type == 'Z') return true;
  }
}

bool RawClient::simple_query(const std::string& sql, std::string* error) {
  if (!send(message('Q', sql + std::string(1, '\0')))) return false;
  bool errored = false;
  for (;;) {
    auto m = read();
    if (!m) return false;
    if (m->type == 'E' && !errored && error != nullptr) *error = m->error_field('M');
    errored = errored || m->type == 'E';
    if (m->type == 'Z') return true;
  }
}

bool RawClient::send_then_end(const std::string& bytes) {
  int on = 1;
  if (setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on) != 0) return false;
  if (!send(bytes)) return false;
  return shutdown(fd_, SHUT_WR) == 0;  // flushes the corked data with the FIN
}

void RawClient::vanish() {
  if (fd_ < 0) return;
  close(fd_);
  fd_ = -1;
}

std::string RawClient::u32(std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  return std::string(b, 4);
}

std::string RawClient::startup_packet(const std::vector<std::pair<std::string, std::string>>& params,
                                      std::uint32_t protocol) {
  std::string body = u32(protocol);
  for (const auto& [k, v] : params) {
    body += k;
    body.push_back('\0');
    body += v;
    body.push_back('\0');
  }
  body.push_back('\0');
  return u32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string RawClient::message(char type, const std::string& body) {
  return std::string(1, type) + u32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

}  // namespace pgshim::testing
