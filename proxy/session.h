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
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "proxy/codec/messages.h"
#include "proxy/server_context.h"
#include "proxy/output.h"
#include "proxy/prepared_statements.h"
#include "proxy/send_batch.h"
#include "proxy/stream.h"
#include "rules/rewrite_result.h"
#include "rules/schema_catalog.h"

namespace pgshim::proxy {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `sends`: the worker's batch of sends (proxy/send_batch.h); null to send at once.
  Session(ServerContext& context, Stream client, asio::any_io_executor executor, SendBatch* sends,
          std::uint64_t id);
  ~Session();

  asio::awaitable<void> run();
  // Asks the session to end at its next idle point (SIGTERM); `now` ends it at once.
  void request_shutdown(bool now);
  [[nodiscard]] std::uint64_t id() const { return id_; }
  // Ends the session when the client or the server has ended its stream since
  // the last read of it (Stream::peer_has_ended). The server calls it about once
  // a second; only a session that read something since costs a system call.
  void probe_ends();

 private:
  // Why the session ended; decides what the client is told.
  enum class End {
    kClientClosed,    // EOF or Terminate from the client
    kServerClosed,    // the server went away: FATAL 08006
    kClientProtocol,  // malformed client message: FATAL 08P01
    kServerProtocol,  // malformed server message: FATAL 08P01
    kShutdown,        // SIGTERM: FATAL 57P01
    kClientIdle,      // client_idle_timeout: FATAL 57P05
    kTransactionIdle, // idle_transaction_timeout: FATAL 25P03
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
  // The pumps (session_pumps.cc). A pass walks what one read added to a pump's
  // buffer and writes what it forwards, without waiting; it stops on kRead when
  // it needs more bytes, on kSending when the worker's SendBatch is to send
  // what it forwards, or on what its coroutine must do first.
  struct Pump;
  enum class Step { kRead, kSending, kReadSchema, kWriteRest, kEnd };
  asio::awaitable<End> run_pump(Pump& p);
  Step pass(Pump& p, std::size_t n);
  Step after_write(Pump& p, boost::system::error_code ec);
  Step walk_client(Pump& p);
  Step walk_server(Pump& p);
  End read_failed(Pump& p);
  asio::awaitable<void> finish(End end);

  // Answers the client with a FATAL ErrorResponse; returns false for convenience.
  asio::awaitable<bool> fail(std::string_view sqlstate, std::string_view message);
  void arm_deadline(std::chrono::milliseconds timeout);
  void disarm_deadline();
  // Idle timeouts: armed at a ReadyForQuery that leaves nothing in flight, with
  // the timeout of the transaction state it reports; the client's next bytes
  // disarm it. When it fires, the client pump ends with idle_end_.
  void arm_idle_timer();
  void disarm_idle_timer();
  asio::awaitable<void> send_cancel(std::uint32_t pid, std::uint32_t key);
  [[nodiscard]] bool idle() const { return pending_syncs_ == 0 && tx_status_ == 'I'; }
  // Inspects a whole frame sent by the server; false ends the session. Sets
  // `forward` to false for messages the proxy consumes itself.
  bool on_server_message(char type, std::string_view body, Output& out, bool& forward);
  [[nodiscard]] bool server_holds_whole(char type) const;

  // Rewriting (DESIGN.md section 3): sets last_sent_, last_rewrite_ and
  // last_refused_. Returns false when the statement is sent as is.
  bool rewrite_frame(std::string_view sql);
  // At a transaction boundary, takes the newest rules snapshot and the schema
  // cache the transaction is rewritten with. False when rules apply and the
  // schema must first be read (read_schema); the caller reads it and calls again.
  bool refresh_at_boundary();
  // Reads the schema from the catalog on the server connection, after sending
  // what `out` holds; false when it could not.
  asio::awaitable<bool> read_schema(Output& out);
  void take_snapshot();
  [[nodiscard]] bool at_boundary() const { return idle() && !in_batch_; }
  // Some migration applies to this session's database.
  [[nodiscard]] bool rules_apply() const { return profile_.active != 0; }
  // Registers (and logs) the refusal of `sql` and returns the marker to send instead.
  std::string refuse(const std::string& sqlstate, const std::string& message, std::string_view sql);
  bool on_catalog_message(char type, std::string_view body);

  ServerContext& context_;
  SendBatch* sends_;
  Stream client_;
  std::optional<Stream> server_;
  std::uint64_t id_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  asio::steady_timer idle_timer_;
  bool idle_armed_ = false;
  std::optional<End> idle_end_;
  // A side stopped after part of a frame was forwarded to the other: a Terminate
  // (to the server) or an ErrorResponse (to the client) would become the rest of
  // that frame, so none is sent; the end of the connection says it.
  bool client_cut_mid_frame_ = false;
  bool server_cut_mid_frame_ = false;

  std::string startup_packet_;  // as the client sent it, forwarded byte for byte
  codec::StartupPacket startup_;
  std::optional<codec::BackendKeyData> backend_key_;
  std::string database_;  // as PostgreSQL resolves it: the user name when absent
  std::optional<rules::ClientVersion> version_option_;  // `-c pgshim.version=...`

  int pending_syncs_ = 0;  // Query and Sync messages not yet answered by ReadyForQuery
  char tx_status_ = 'I';
  bool shutdown_requested_ = false;
  bool server_sent_fatal_ = false;
  std::string protocol_error_;
  bool counted_ = false;  // counted in context_.client_connections
  bool pumping_ = false;  // authentication done, pumps running
  bool client_read_since_probe_ = false;
  bool server_read_since_probe_ = false;

  // Rewriting state: the snapshot of the rules this session uses until its next
  // transaction boundary, its version in each migration, the schema it rewrites with.
  std::shared_ptr<const RulesSnapshot> rules_;
  rules::ClientProfile profile_;
  std::shared_ptr<const rules::StaticSchemaCache> schema_;
  std::uint64_t broken_migrations_ = 0;  // rules the schema contradicts: refuse, never guess
  std::string broken_reason_;
  bool in_batch_ = false;     // extended-protocol messages sent since the last Sync
  // Batches sent and answered by ReadyForQuery. The startup packet counts as the
  // first: the server answers it with a ReadyForQuery too, through the pump.
  std::uint64_t syncs_sent_ = 1;
  std::uint64_t syncs_answered_ = 0;
  // A refused statement is replaced by a marker the server rejects as a syntax
  // error, so the error arrives in order and the server's transaction state
  // matches what the client is told; the server pump swaps the error for ours.
  struct Substitution {
    std::string marker;
    std::string sqlstate;
    std::string message;
    std::uint64_t sync_index = 0;  // the ReadyForQuery that ends its batch
  };
  std::deque<Substitution> substitutions_;
  // Every Query and Parse sent while rules apply, in order, so that the `P`
  // position of the server's error on a rewritten statement is mapped back to
  // the client's text. A Parse leaves at its ParseComplete or error, everything
  // at the ReadyForQuery that ends its batch.
  struct InFlight {
    bool is_parse = false;
    std::shared_ptr<const rules::RewriteResult> rewritten;  // null when sent as is
    std::string original;
    std::uint64_t sync_index = 0;
  };
  std::deque<InFlight> in_flight_;
  std::shared_ptr<const rules::RewriteResult> last_rewrite_;  // set by rewrite_frame
  std::string last_original_;
  void map_error_position(codec::ErrorResponse& error) const;

  // The client's prepared statements (named Parse and SQL PREPARE), so that one
  // prepared under rules no longer in force is closed and prepared again, before
  // its next use, under the new ones (the client never sees "cached plan must
  // not change result type"), and the replies the proxy waits for.
  PreparedStatements statements_;
  std::string last_sent_;  // set by rewrite_frame: the text to send, "" when the client's
  bool last_refused_ = false;  // set by rewrite_frame: last_sent_ is a refusal marker
  std::vector<std::string> last_executes_;  // set by send_sql: the statements a Parse EXECUTEs
  enum class Handled { kDone, kMalformed, kReadSchemaFirst };
  Handled on_client_message(char type, std::string_view frame, std::string_view body, Output& out,
                            bool may_read_schema);
  // Decoded into again and again, so that their vectors are not allocated per message.
  codec::Parse parse_scratch_;
  codec::Bind bind_scratch_;
  // Tracking is on when a rules directory is configured.
  [[nodiscard]] bool tracks_statements() const { return !context_.config.rules_dir.empty(); }
  [[nodiscard]] PrepareStamp stamp() const;
  // Sends a Query (`parse` null) or Parse: rewritten, with the SQL prepared
  // statement commands in it tracked and, in a Query, each stale statement it
  // EXECUTEs prepared again just before that statement. False when the frame
  // is forwarded as is.
  bool send_sql(std::string_view sql, const codec::Parse* parse, Output& out);
  // SQL to insert into a Query, at offsets of the client's text.
  using Insertions = std::vector<std::pair<std::uint32_t, std::string>>;
  Insertions track_sql(std::string_view sql, bool in_parse, Output& out);
  void splice_into_query(std::string_view sql, const Insertions& insertions);
  // Before a Bind or Describe of `name`, the session's `statement`, after refresh_at_boundary().
  void before_statement_use(std::string_view name, PreparedStatement& statement, Output& out);
  // Prepares `name` again, when stale, with messages ahead of the client's
  // (extended protocol), or returns the SQL to run before the client's
  // statement (simple Query).
  void prepare_again_with_messages(std::string_view name, Output& out);
  void prepare_again_with_messages(std::string_view name, PreparedStatement& statement, Output& out);
  std::optional<std::string> prepare_again_in_sql(std::string_view name);
  std::optional<std::string> stand_in_before_deallocate(std::string_view name, bool in_parse);
  // The rewrite of `sql` under the rules in force; null when they leave it alone.
  // `counted`: it is sent, so it counts in the metrics.
  std::shared_ptr<const rules::RewriteResult> rewrite_now(std::string_view sql, bool counted = true);
  // The text to prepare `sql` with now: rewritten, as is, or a refusal marker.
  std::string text_to_prepare(std::string_view sql, bool& refused);
  void remember_statement(const codec::Parse& parse);
  [[nodiscard]] std::uint64_t schema_generation() const { return schema_ ? schema_->generation() : 0; }
  std::uint64_t next_marker_ = 0;
  // The catalog read that fills the schema cache, on this session's own connection.
  bool catalog_pending_ = false;
  std::vector<rules::CatalogRow> catalog_rows_;
  std::string catalog_search_path_;
  std::string catalog_user_;
  std::string catalog_error_;
  std::unique_ptr<asio::steady_timer> catalog_done_;
};

}  // namespace pgshim::proxy
