// The two pumps of an authenticated session. Each reads what its peer sent,
// walks the frames in place, and forwards the bytes with one write per read.
// Most messages pass through without being held whole: a frame larger than
// the buffer is streamed in pieces (DataRow, CopyData), so memory per connection
// stays at two buffers plus the largest message the proxy must read (Query,
// Parse, ErrorResponse...: bounded by max_message_size).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "proxy/frame_buffer.h"
#include "proxy/session.h"

namespace pgshim::proxy {
namespace {

constexpr std::size_t kBufferSize = 16 * 1024;
constexpr std::uint32_t kMaxFrame = 0x3fffffff;  // PostgreSQL's own limit (1 GiB - 1)

// Client messages validated whole before they are forwarded. Bind may carry
// large values: it is checked when small and streamed otherwise.
bool client_holds_whole(char type, std::uint32_t length) {
  switch (type) {
    case 'Q':
    case 'P':
    case 'D':
    case 'C':
      return true;
    case 'B':
      return length <= kBufferSize;
    default:
      return false;
  }
}

bool check_client_message(char type, std::string_view body, std::string& error) {
  using codec::DecodeStatus;
  switch (type) {
    case 'Q': {
      codec::Query m;
      return codec::Query::decode(body, m, error) == DecodeStatus::kOk;
    }
    case 'P': {
      codec::Parse m;
      return codec::Parse::decode(body, m, error) == DecodeStatus::kOk;
    }
    case 'B': {
      codec::Bind m;
      return codec::Bind::decode(body, m, error) == DecodeStatus::kOk;
    }
    case 'D': {
      codec::Describe m;
      return codec::Describe::decode(body, m, error) == DecodeStatus::kOk;
    }
    case 'C': {
      codec::Close m;
      return codec::Close::decode(body, m, error) == DecodeStatus::kOk;
    }
    default:
      return true;
  }
}

bool server_holds_whole(char type) {
  return type == 'Z' || type == 'K' || type == 'E';
}

}  // namespace

asio::awaitable<Session::End> Session::client_to_server() {
  FrameBuffer buffer(kBufferSize);
  std::size_t streaming = 0;  // bytes of a streamed frame not yet read
  std::size_t need = 0;       // room a held frame needs
  for (;;) {
    auto [ec, n] = co_await client_.read_some(buffer.prepare(need));
    if (ec) co_return shutdown_requested_ ? End::kShutdown : End::kClientClosed;
    buffer.commit(n);
    const std::string_view data = buffer.data();
    std::size_t out = std::min(streaming, data.size());
    streaming -= out;
    need = 0;
    bool terminate = false;
    std::optional<End> end;
    while (streaming == 0 && out < data.size() && !terminate) {
      const std::string_view rest = data.substr(out);
      codec::Header header;
      std::string error;
      const auto status = codec::decode_header(codec::Direction::kFrontend, rest, kMaxFrame, header, error);
      if (status == codec::DecodeStatus::kIncomplete) break;
      if (status == codec::DecodeStatus::kMalformed) {
        protocol_error_ = "pgshim: " + error;
        end = End::kClientProtocol;
        break;
      }
      if (client_holds_whole(header.type, header.length)) {
        if ((header.type == 'Q' || header.type == 'P') && header.length > context_.config.max_message_size) {
          protocol_error_ = fmt::format("pgshim: message of {} bytes exceeds max_message_size ({} bytes)",
                                        header.length, context_.config.max_message_size);
          end = End::kClientProtocol;
          break;
        }
        if (rest.size() < header.frame_size()) {
          need = header.frame_size();
          break;
        }
        if (!check_client_message(header.type, rest.substr(codec::kHeaderSize, header.body_size()), error)) {
          protocol_error_ = "pgshim: " + error;
          end = End::kClientProtocol;
          break;
        }
        if (header.type == 'Q') ++pending_syncs_;
        out += header.frame_size();
        continue;
      }
      if (header.type == 'S' || header.type == 'F') ++pending_syncs_;
      if (header.type == 'X') terminate = true;
      if (rest.size() >= header.frame_size()) {
        out += header.frame_size();
      } else {
        streaming = header.frame_size() - rest.size();
        out = data.size();
      }
    }
    if (out > 0) {
      auto [wec, wn] = co_await server_->write(asio::buffer(data.data(), out));
      if (wec) co_return shutdown_requested_ ? End::kShutdown : End::kServerClosed;
      buffer.consume(out);
    }
    if (end) co_return *end;
    if (terminate) co_return End::kClientClosed;
  }
}

asio::awaitable<Session::End> Session::server_to_client() {
  FrameBuffer buffer(kBufferSize);
  std::size_t streaming = 0;
  std::size_t need = 0;
  for (;;) {
    auto [ec, n] = co_await server_->read_some(buffer.prepare(need));
    if (ec) co_return shutdown_requested_ ? End::kShutdown : End::kServerClosed;
    buffer.commit(n);
    const std::string_view data = buffer.data();
    std::size_t out = std::min(streaming, data.size());
    streaming -= out;
    need = 0;
    std::optional<End> end;
    while (streaming == 0 && out < data.size()) {
      const std::string_view rest = data.substr(out);
      codec::Header header;
      std::string error;
      const auto status = codec::decode_header(codec::Direction::kBackend, rest,
                                               server_holds_whole(rest[0]) ? context_.config.max_message_size : kMaxFrame,
                                               header, error);
      if (status == codec::DecodeStatus::kIncomplete) break;
      if (status == codec::DecodeStatus::kMalformed) {
        protocol_error_ = error;
        end = End::kServerProtocol;
        break;
      }
      if (server_holds_whole(header.type)) {
        if (rest.size() < header.frame_size()) {
          need = header.frame_size();
          break;
        }
        if (!on_server_message(header.type, rest.substr(codec::kHeaderSize, header.body_size()))) {
          end = End::kServerProtocol;
          break;
        }
        out += header.frame_size();
      } else if (rest.size() >= header.frame_size()) {
        out += header.frame_size();
      } else {
        streaming = header.frame_size() - rest.size();
        out = data.size();
      }
    }
    if (out > 0) {
      auto [wec, wn] = co_await client_.write(asio::buffer(data.data(), out));
      if (wec) co_return shutdown_requested_ ? End::kShutdown : End::kClientClosed;
      buffer.consume(out);
    }
    if (end) co_return *end;
    if (shutdown_requested_ && idle() && buffer.size() == 0) co_return End::kShutdown;
  }
}

bool Session::on_server_message(char type, std::string_view body) {
  std::string error;
  switch (type) {
    case 'Z': {
      codec::ReadyForQuery m;
      if (codec::ReadyForQuery::decode(body, m, error) != codec::DecodeStatus::kOk) break;
      tx_status_ = m.status;
      if (pending_syncs_ > 0) --pending_syncs_;
      return true;
    }
    case 'K': {
      codec::BackendKeyData m;
      if (codec::BackendKeyData::decode(body, m, error) != codec::DecodeStatus::kOk) break;
      if (backend_key_) context_.cancels.remove(backend_key_->process_id, backend_key_->secret_key);
      backend_key_ = m;
      context_.cancels.add(m.process_id, m.secret_key);
      return true;
    }
    case 'E': {
      codec::ErrorResponse m;
      if (codec::ErrorResponse::decode(body, m, error) != codec::DecodeStatus::kOk) break;
      const auto severity = m.field('V').empty() ? m.field('S') : m.field('V');
      if (severity == "FATAL" || severity == "PANIC") server_sent_fatal_ = true;
      return true;
    }
    default:
      return true;
  }
  protocol_error_ = error;
  return false;
}

}  // namespace pgshim::proxy
