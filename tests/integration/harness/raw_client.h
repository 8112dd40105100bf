// A raw TCP client for protocol-level tests: sends exact bytes (valid or not)
// and reads whole backend messages with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgshim::testing {

struct RawMessage {
  char type = 0;
  std::string body;
  // The value of field `code` of an ErrorResponse/NoticeResponse body, or "".
  [[nodiscard]] std::string error_field(char code) const;
};

class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads one regular message; nullopt on EOF, error or timeout.
  std::optional<RawMessage> read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Reads exactly n bytes (e.g. the 'S'/'N' answer to SSLRequest).
  std::optional<std::string> read_bytes(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything the peer sends until it closes the connection (at most `max`
  // bytes); nullopt when it is still open after `timeout`.
  std::optional<std::string> read_until_closed(std::size_t max, std::chrono::milliseconds timeout);
  // True when the peer closed the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Sends a StartupMessage for `user`/`database` (and `application_name` when not
  // empty) and reads up to ReadyForQuery.
  bool startup(const std::string& user, const std::string& database, const std::string& application_name = "");
  // Sends a Query and reads its answer up to ReadyForQuery; false on EOF or
  // timeout. `error` gets the first ErrorResponse's message, if any.
  bool simple_query(const std::string& sql, std::string* error = nullptr);
  // Closes the socket at once (as a killed process would).
  void vanish();
  // Sends `bytes` and the end of the stream in one TCP segment (the FIN rides on
  // the data), leaving the socket open for reading.
  bool send_then_end(const std::string& bytes);

  static std::string startup_packet(const std::vector<std::pair<std::string, std::string>>& params,
                                    std::uint32_t protocol = 196608);
  static std::string message(char type, const std::string& body);
  static std::string u32(std::uint32_t v);

 private:
  bool wait_readable(std::chrono::milliseconds timeout);
  int fd_ = -1;
  std::string pending_;
};

}  // namespace pgshim::testing
