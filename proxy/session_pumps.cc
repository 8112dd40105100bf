// The two pumps of an authenticated session. Each reads what its peer sent,
// walks the frames in place, and forwards the bytes with one write per read.
// Most messages pass through without being held whole: a frame larger than
// the buffer is streamed in pieces (DataRow, CopyData), so memory per connection
// stays at two buffers plus the largest message the proxy must read (Query,
// Parse, ErrorResponse...: bounded by max_message_size).
#include <algorithm>
#include <tuple>
#include <utility>

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

// The statement name of a Bind from the start of its body, when both names are there.
bool bind_statement_prefix(std::string_view body, std::string_view& statement) {
  const auto portal_end = body.find('\0');
  if (portal_end == std::string_view::npos) return false;
  const auto statement_end = body.find('\0', portal_end + 1);
  if (statement_end == std::string_view::npos) return false;
  statement = body.substr(portal_end + 1, statement_end - portal_end - 1);
  return true;
}

}  // namespace

// Validates a message held whole, decoding it once, and forwards it (rewritten
// when it is a Query or Parse that rules apply to). Never waits: when the
// transaction it starts needs the schema read first, it says so before doing
// anything, and the pump reads it and calls again with `may_read_schema` false.
Session::Handled Session::on_client_message(char type, std::string_view frame, std::string_view body, Output& out,
                                            bool may_read_schema) {
  using codec::DecodeStatus;
  std::string error;
  codec::Query query;
  codec::Parse& parse = parse_scratch_;
  codec::Bind& bind = bind_scratch_;
  codec::Describe describe;
  codec::Close close;
  DecodeStatus status = DecodeStatus::kOk;
  switch (type) {
    case 'Q': status = codec::Query::decode(body, query, error); break;
    case 'P': status = codec::Parse::decode(body, parse, error); break;
    case 'B': status = codec::Bind::decode(body, bind, error); break;
    case 'D': status = codec::Describe::decode(body, describe, error); break;
    case 'C': status = codec::Close::decode(body, close, error); break;
    default: break;
  }
  if (status != DecodeStatus::kOk) {
    protocol_error_ = "pgshim: " + error;
    return Handled::kMalformed;
  }
  std::string_view used;  // the prepared statement a Bind or Describe uses
  if (type == 'B') used = bind.statement;
  if (type == 'D' && describe.kind == 'S') used = describe.name;
  PreparedStatement* const used_statement = used.empty() ? nullptr : statements_.find(used);
  if ((type == 'Q' || type == 'P' || used_statement != nullptr) && !refresh_at_boundary() && may_read_schema) {
    return Handled::kReadSchemaFirst;
  }
  if (used_statement != nullptr) before_statement_use(used, *used_statement, out);
  if (type == 'C' && tracks_statements()) statements_.closed(close.kind, close.name, syncs_sent_ + 1);
  bool replaced = false;
  if (type == 'Q') replaced = send_sql(query.sql, nullptr, out);
  if (type == 'P') replaced = send_sql(parse.query, &parse, out);
  if (!replaced) out.pass(frame.data(), frame.size());
  if (type == 'P') remember_statement(parse);
  if ((rules_apply() || last_rewrite_ != nullptr) && (type == 'Q' || type == 'P')) {
    in_flight_.push_back({type == 'P', last_rewrite_, last_rewrite_ ? std::move(last_original_) : std::string(),
                          syncs_sent_ + 1});
  }
  if (type == 'Q') {
    ++pending_syncs_;
    ++syncs_sent_;
    context_.metrics.queries_total.fetch_add(1, std::memory_order_relaxed);
  } else {
    in_batch_ = true;
  }
  // A message with many parameters leaves no large scratch behind.
  constexpr std::size_t kScratchKept = 64;
  if (parse.param_types.capacity() > kScratchKept) parse = {};
  if (bind.params.capacity() > kScratchKept || bind.param_formats.capacity() > kScratchKept ||
      bind.result_formats.capacity() > kScratchKept) {
    bind = {};
  }
  return Handled::kDone;
}

bool Session::server_holds_whole(char type) const {
  if (type == 'Z' || type == 'K' || type == 'E') return true;
  // CommandComplete tells of DDL; the catalog read consumes its own rows.
  if (rules_apply() && (type == 'C' || type == '1')) return true;
  if (statements_.awaits_replies() && (type == '1' || type == '2' || type == '3' || type == 'C')) return true;
  return catalog_pending_ && (type == 'T' || type == 'D');
}

// One direction of a session: the bytes between a read and the write that
// forwards them, and why the last pass stopped.
struct Session::Pump final : EdgeReader, SendBatch::Sender {
  Pump(Session& session, Stream& from, Stream& to, bool from_client)
      : session(session),
        from(from),
        to(to),
        from_client(from_client),
        buffer(kBufferSize),
        batched(session.sends_ != nullptr && from.reads_at_edges() && to.reads_at_edges()) {}

  // An edge while the coroutine waits: passes run here, without it, until one
  // stops on something that must wait (or the socket is empty). While the
  // batch holds a send of this pump's bytes, reading waits for its report.
  bool on_readable() override {
    if (sending) return true;
    for (;;) {
      // Most passes end on a short read: the next edge tells of more.
      if (from.drained()) return true;
      const std::size_t n = from.read_now(buffer.prepare(need), read_error);
      if (read_error) {
        if (read_error != asio::error::would_block) return false;
        read_error.clear();
        return true;
      }
      stopped = session.pass(*this, n);
      if (stopped == Step::kSending) return true;
      if (stopped != Step::kRead) return false;
    }
  }

  // The batch made the send pass() queued: go on as after write_at_once().
  void on_sent(std::size_t sent, boost::system::error_code ec) override {
    sending = false;
    written = sent;
    if (!ec && sent < asio::buffer_size(out.buffers())) {
      stopped = Step::kWriteRest;
    } else {
      stopped = session.after_write(*this, ec);
      if (stopped == Step::kRead && on_readable()) return;
    }
    // The coroutine goes on from here: a remainder to write, the end, or a
    // schema read; unless its wait was ended meanwhile by a cancellation.
    if (waiting && from.end_wait_readable()) resumed = true;
  }

  // Passes on what the buffer holds of a frame being streamed; returns how far
  // into the buffer that went. A walk starts here.
  std::size_t pass_streamed() {
    const std::string_view data = buffer.data();
    const std::size_t pos = std::min(streaming, data.size());
    if (pos > 0) out.pass(data.data(), pos);
    streaming -= pos;
    need = 0;
    return pos;
  }

  Session& session;
  Stream& from;
  Stream& to;
  const bool from_client;
  FrameBuffer buffer;
  Output out;
  std::size_t streaming = 0;  // bytes of a streamed frame not yet read
  std::size_t need = 0;       // room a held frame needs
  std::size_t walked = 0;     // bytes of the buffer placed in `out`, not yet written
  std::size_t written = 0;    // bytes of `out` written when a pass stopped on kWriteRest
  bool schema_read = false;   // the schema was read for the frame at the front
  std::optional<End> end;
  Step stopped = Step::kRead;
  boost::system::error_code read_error;
  const bool batched;    // sends go through the worker's SendBatch
  bool sending = false;  // the batch holds a send of `out`
  bool waiting = false;  // the coroutine waits in wait_readable()
  bool resumed = false;  // on_sent() ended that wait
};

asio::awaitable<Session::End> Session::client_to_server() {
  Pump pump(*this, client_, *server_, true);
  co_return co_await run_pump(pump);
}

asio::awaitable<Session::End> Session::server_to_client() {
  Pump pump(*this, *server_, client_, false);
  co_return co_await run_pump(pump);
}

// Reads, walks and forwards until the direction ends. A plain socket is read by
// the pump's on_readable() at its edges while this waits (proxy/edge_read.h); a
// TLS stream is read through Asio.
asio::awaitable<Session::End> Session::run_pump(Pump& p) {
  for (;;) {
    Step step = Step::kRead;
    if (p.from.reads_at_edges()) {
      p.stopped = Step::kRead;
      if (p.on_readable()) {
        p.waiting = true;
        auto [ec] = co_await p.from.wait_readable(p);
        p.waiting = false;
        // Ended by on_sent(), not cancelled.
        if (ec == asio::error::operation_aborted && std::exchange(p.resumed, false)) ec.clear();
        // Nothing leaves this coroutine while the batch holds the pump's bytes.
        if (p.sending) sends_->flush();
        if (ec && !p.read_error) p.read_error = ec;
      }
      if (p.read_error) co_return read_failed(p);
      step = p.stopped;
    } else {
      auto [ec, n] = co_await p.from.read_some(p.buffer.prepare(p.need));
      if (ec) {
        p.read_error = ec;
        co_return read_failed(p);
      }
      step = pass(p, n);
    }
    while (step == Step::kReadSchema || step == Step::kWriteRest) {
      if (step == Step::kReadSchema) {
        co_await read_schema(p.out);  // sends `out` first
        p.out.clear();
        p.buffer.consume(p.walked);
        p.walked = 0;
        p.schema_read = true;
        step = pass(p, 0);
      } else {
        auto [ec, n] = co_await p.to.write_rest(p.out.buffers(), p.written);
        step = after_write(p, ec);
      }
    }
    if (step == Step::kEnd) co_return *p.end;
  }
}

Session::End Session::read_failed(Pump& p) {
  if (p.from_client) {
    client_cut_mid_frame_ = p.streaming > 0;
    if (idle_end_) return *idle_end_;
    return shutdown_requested_ ? End::kShutdown : End::kClientClosed;
  }
  server_cut_mid_frame_ = p.streaming > 0;
  return shutdown_requested_ ? End::kShutdown : End::kServerClosed;
}

Session::Step Session::pass(Pump& p, std::size_t n) {
  if (n > 0) {
    p.buffer.commit(n);
    if (p.from_client) {
      client_read_since_probe_ = true;
      if (idle_armed_) disarm_idle_timer();
    } else {
      server_read_since_probe_ = true;
    }
  }
  const Step step = p.from_client ? walk_client(p) : walk_server(p);
  if (step == Step::kReadSchema) return step;
  if (!p.out.empty() && p.batched) {
    p.sending = true;
    sends_->queue(p.to.plain_handle(), p.out.buffers(), p);
    return Step::kSending;
  }
  boost::system::error_code ec;
  if (!p.out.empty() && !p.to.write_at_once(p.out.buffers(), p.written, ec)) return Step::kWriteRest;
  return after_write(p, ec);
}

// After `out` was written (or failed): the bytes it forwarded are done with.
Session::Step Session::after_write(Pump& p, boost::system::error_code ec) {
  p.out.clear();
  if (ec) {
    // The other side is gone.
    if (shutdown_requested_) {
      p.end = End::kShutdown;
    } else {
      p.end = p.from_client ? End::kServerClosed : End::kClientClosed;
    }
    return Step::kEnd;
  }
  p.buffer.consume(p.walked);
  p.walked = 0;
  if (p.end) return Step::kEnd;
  if (!p.from_client && shutdown_requested_ && idle() && p.buffer.size() == 0) {
    p.end = End::kShutdown;
    return Step::kEnd;
  }
  return Step::kRead;
}

// Walks the client's frames from the front of the buffer into `out`.
Session::Step Session::walk_client(Pump& p) {
  const std::string_view data = p.buffer.data();
  std::size_t pos = p.pass_streamed();
  while (p.streaming == 0 && pos < data.size() && !p.end) {
    const std::string_view rest = data.substr(pos);
    codec::Header header;
    std::string error;
    const auto status = codec::decode_header(codec::Direction::kFrontend, rest, kMaxFrame, header, error);
    if (status == codec::DecodeStatus::kIncomplete) break;
    if (status == codec::DecodeStatus::kMalformed) {
      protocol_error_ = "pgshim: " + error;
      p.end = End::kClientProtocol;
      break;
    }
    const char type = header.type;
    if (client_holds_whole(type, header.length)) {
      // Every message held whole is bounded (a Bind is held only when it fits the buffer).
      if (type != 'B' && header.length > context_.config.max_message_size) {
        protocol_error_ = fmt::format("pgshim: message of {} bytes exceeds max_message_size ({} bytes)",
                                      header.length, context_.config.max_message_size);
        p.end = End::kClientProtocol;
        break;
      }
      if (rest.size() < header.frame_size()) {
        p.need = header.frame_size();
        break;
      }
      const std::string_view body = rest.substr(codec::kHeaderSize, header.body_size());
      const auto handled = on_client_message(type, rest.substr(0, header.frame_size()), body, p.out, !p.schema_read);
      if (handled == Handled::kReadSchemaFirst) {
        p.walked = pos;
        return Step::kReadSchema;
      }
      p.schema_read = false;
      if (handled == Handled::kMalformed) {
        p.end = End::kClientProtocol;
        break;
      }
      pos += header.frame_size();
      continue;
    }
    if (type == 'B') {
      // A large Bind is streamed, but the statement it names may need
      // preparing again first; its name is near the start of the body.
      std::string_view statement;
      if (!bind_statement_prefix(rest.substr(codec::kHeaderSize), statement)) {
        if (rest.size() < kBufferSize / 2) break;  // wait for the names
      } else if (statements_.find(statement) != nullptr) {
        if (!refresh_at_boundary() && !p.schema_read) {
          p.walked = pos;
          return Step::kReadSchema;
        }
        // Replies read during a schema read may have changed the statements.
        if (PreparedStatement* const used = statements_.find(statement)) before_statement_use(statement, *used, p.out);
      }
      p.schema_read = false;
    }
    if (type == 'S' || type == 'F') {
      ++pending_syncs_;
      ++syncs_sent_;
      in_batch_ = false;
    } else if (type == 'B' || type == 'E' || type == 'H') {
      in_batch_ = true;
      if (type == 'E') context_.metrics.queries_total.fetch_add(1, std::memory_order_relaxed);
    }
    if (type == 'X') p.end = End::kClientClosed;
    const std::size_t take = std::min<std::size_t>(rest.size(), header.frame_size());
    p.out.pass(rest.data(), take);
    if (take < header.frame_size()) p.streaming = header.frame_size() - take;
    pos += take;
  }
  p.walked = pos;
  return p.end ? Step::kEnd : Step::kRead;
}

// Walks the server's frames from the front of the buffer into `out`.
Session::Step Session::walk_server(Pump& p) {
  const std::string_view data = p.buffer.data();
  std::size_t pos = p.pass_streamed();
  while (p.streaming == 0 && pos < data.size()) {
    const std::string_view rest = data.substr(pos);
    codec::Header header;
    std::string error;
    const bool hold = server_holds_whole(rest[0]);
    const auto status = codec::decode_header(codec::Direction::kBackend, rest,
                                             hold ? context_.config.max_message_size : kMaxFrame, header, error);
    if (status == codec::DecodeStatus::kIncomplete) break;
    if (status == codec::DecodeStatus::kMalformed) {
      protocol_error_ = error;
      p.end = End::kServerProtocol;
      break;
    }
    if (hold) {
      if (rest.size() < header.frame_size()) {
        p.need = header.frame_size();
        break;
      }
      bool forward = true;
      if (!on_server_message(header.type, rest.substr(codec::kHeaderSize, header.body_size()), p.out, forward)) {
        p.end = End::kServerProtocol;
        break;
      }
      if (forward) p.out.pass(rest.data(), header.frame_size());
      pos += header.frame_size();
      continue;
    }
    const std::size_t take = std::min<std::size_t>(rest.size(), header.frame_size());
    if (!catalog_pending_) p.out.pass(rest.data(), take);
    if (take < header.frame_size()) p.streaming = header.frame_size() - take;
    pos += take;
  }
  p.walked = pos;
  return p.end ? Step::kEnd : Step::kRead;
}

bool Session::on_server_message(char type, std::string_view body, Output& out, bool& forward) {
  if (catalog_pending_) {
    forward = false;
    return on_catalog_message(type, body);
  }
  // Replies to the proxy's own messages (dropped) and to the client's changes of its statements.
  bool drop = false;
  if (statements_.awaits_replies() && statements_.on_reply(type, body, syncs_answered_ + 1, drop) && drop) {
    forward = false;
    return true;
  }
  std::string error;
  switch (type) {
    case 'Z': {
      codec::ReadyForQuery m;
      if (codec::ReadyForQuery::decode(body, m, error) != codec::DecodeStatus::kOk) break;
      tx_status_ = m.status;
      if (pending_syncs_ > 0) --pending_syncs_;
      ++syncs_answered_;
      if (pending_syncs_ == 0 && !in_batch_) arm_idle_timer();
      // A marker the server skipped (an earlier error in its batch) is done with.
      while (!substitutions_.empty() && substitutions_.front().sync_index <= syncs_answered_) {
        substitutions_.pop_front();
      }
      while (!in_flight_.empty() && in_flight_.front().sync_index <= syncs_answered_) in_flight_.pop_front();
      statements_.on_ready(syncs_answered_);
      return true;
    }
    case '1': {
      if (!in_flight_.empty() && in_flight_.front().is_parse) in_flight_.pop_front();
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
      if (!substitutions_.empty() && m.field('M').find(substitutions_.front().marker) != std::string_view::npos) {
        const auto& s = substitutions_.front();
        std::string replaced;
        codec::ErrorResponse::make("ERROR", s.sqlstate, s.message).encode(replaced);
        out.add(std::move(replaced));
        forward = false;
        substitutions_.pop_front();
      } else if (!in_flight_.empty() && in_flight_.front().rewritten != nullptr && !m.field('P').empty()) {
        map_error_position(m);
        std::string replaced;
        m.encode(replaced);
        out.add(std::move(replaced));
        forward = false;
      }
      // A Parse that failed gets no ParseComplete.
      if (!in_flight_.empty() && in_flight_.front().is_parse) in_flight_.pop_front();
      return true;
    }
    case 'C': {
      // DDL seen through the proxy may change the tables rules name.
      const std::string_view tag = body.substr(0, body.find('\0'));
      if (tag.starts_with("ALTER TABLE") || tag.starts_with("CREATE TABLE") || tag.starts_with("DROP TABLE") ||
          tag.starts_with("ALTER VIEW") || tag.starts_with("CREATE VIEW") || tag.starts_with("DROP VIEW")) {
        context_.rules->mark_schema_stale(database_);
      }
      return true;
    }
    default:
      return true;
  }
  protocol_error_ = error;
  return false;
}

}  // namespace pgshim::proxy
