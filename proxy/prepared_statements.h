// The prepared statements of one session's server connection, as its client
// made them (a named Parse, or SQL PREPARE), each with the text the server has
// and the rules and schema it was rewritten under, so that one prepared under
// rules no longer in force is prepared again before its next use (DESIGN.md
// section 4). Parse and SQL PREPARE share one namespace on the server
// ("Extended Query" and the PREPARE reference page), so they share it here.
//
// It also keeps the replies the session waits for, in the order the server
// sends them: those to the proxy's own messages (dropped: the client never asked
// for them) and those that confirm the client's Parse, Close, PREPARE,
// DEALLOCATE and DISCARD ALL (forwarded). A client's change is applied when it is sent, so
// that the statements after it in a pipeline see it, and undone when its batch
// ends without its reply: it failed, or an earlier error made the server skip it.
// PREPARE and DEALLOCATE are not transactional, so nothing else undoes them.
//
// Invariant: every Parse and Close sent while statements are tracked is waited
// for, and replies are matched in order, only ever against the first reply
// waited for in the batch being answered; each one arrives or an error ends the
// batch, so no reply is dropped in place of another. The exception, a PREPARE,
// DEALLOCATE or DISCARD ALL that is the statement of a Parse, is waited for
// apart and never dropped: whether and when the client executes it is not known.
//
// Pure bookkeeping, no I/O; used on its session's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pgshim::proxy {

// What a statement was prepared under: the session's rules snapshot and schema.
struct PrepareStamp {
  std::uint64_t rules_version = 0;
  std::uint64_t schema_generation = 0;
  friend bool operator==(const PrepareStamp&, const PrepareStamp&) = default;
};

struct PreparedStatement {
  std::string original;                    // the query as the client wrote it (after AS for SQL)
  std::vector<std::uint32_t> param_types;  // Parse: parameter type OIDs
  std::string sql_types;                   // PREPARE name(types): the list as written, "" if none
  bool from_sql = false;                   // made by SQL PREPARE
  std::vector<std::string> executes;       // statements its text EXECUTEs (Parse of "EXECUTE name")
  std::string sent;                        // the text the server has, "" when not known
  PrepareStamp stamp;
  bool on_server = true;  // false once the proxy removed it and did not yet prepare it again
  std::uint64_t serial = 0;  // tells apart two statements that had one name in turn
};

// What the arrival of a reply the session waits for means.
enum class ReplyEffect : std::uint8_t {
  kNone,          // a helper message of the proxy's
  kRemoved,       // the proxy's Close or DEALLOCATE of the statement ran
  kPrepared,      // the proxy's Parse or PREPARE of the statement ran
  kClientChange,  // the client's change ran; without the reply it is undone
};

class PreparedStatements {
 public:
  // A rules_version no snapshot has: the statement is prepared again at its next use.
  static constexpr std::uint64_t kPrepareAgain = ~std::uint64_t{0};

  [[nodiscard]] PreparedStatement* find(std::string_view name);
  [[nodiscard]] bool empty() const { return statements_.empty(); }
  [[nodiscard]] std::size_t size() const { return statements_.size(); }
  [[nodiscard]] static bool stale(const PreparedStatement& s, PrepareStamp now) { return s.stamp != now; }
  // Whether some statement was prepared under another stamp than `now`.
  [[nodiscard]] bool any_stale(PrepareStamp now);
  // Makes `s` stale under every stamp, e.g. when preparing it again was refused.
  void prepare_again_later(PreparedStatement& s);

  // The client's Parse in batch `sync_index` (an unnamed one is only waited for).
  void parsed(std::string_view name, PreparedStatement statement, std::uint64_t sync_index);
  // The client's Parse of the unnamed statement: parsed("", {}, sync_index)
  // without building the statement nothing keeps (most Parse messages).
  void parsed_unnamed(std::uint64_t sync_index) { wait_for_plain('1', sync_index); }
  // The client's Close of a statement or portal, in batch `sync_index`.
  void closed(char kind, std::string_view name, std::uint64_t sync_index);

  // The client's SQL, in batch `sync_index`. `in_parse`: the command is the
  // statement of a Parse message, run when the client executes it.
  void sql_prepare(std::string_view name, PreparedStatement statement, std::uint64_t sync_index, bool in_parse);
  void sql_deallocate(std::string_view name, std::uint64_t sync_index, bool in_parse);
  // DEALLOCATE ALL or DISCARD ALL, with the command tag of its CommandComplete.
  void sql_deallocate_all(std::string_view tag, std::uint64_t sync_index, bool in_parse);

  // A message the proxy sent for statement `name` in batch `sync_index`: its
  // reply (`type`, and for CommandComplete its `tag`) is dropped.
  void expect_own(char type, std::string_view tag, std::uint64_t sync_index, std::string_view name,
                  ReplyEffect effect);

  // Whether the server's ParseComplete, BindComplete, CloseComplete or
  // CommandComplete must be held whole and shown to on_reply().
  [[nodiscard]] bool awaits_replies() const { return !strict_.empty() || !plain_.empty() || !loose_.empty(); }
  // A reply in batch `sync_index`; true when it was waited for, with `drop` set
  // when the client must not see it.
  bool on_reply(char type, std::string_view body, std::uint64_t sync_index, bool& drop);
  // ReadyForQuery ended batch `sync_index`: what it still waited for did not run.
  void on_ready(std::uint64_t sync_index);

 private:
  struct Expected {
    char type = 0;
    std::string tag;  // CommandComplete: its command tag
    std::uint64_t sync_index = 0;
    bool own = false;
    ReplyEffect effect = ReplyEffect::kNone;
    std::string statement;
    std::uint64_t serial = 0;  // kPrepared / kRemoved: of the statement; kClientChange: of what it added
    std::uint64_t order = 0;   // when it was sent, to undo in reverse
    // kClientChange: the statements it removed or replaced, put back when it is undone.
    std::vector<std::pair<std::string, PreparedStatement>> replaced;
  };

  // A reply that changes nothing when it comes or fails to (to the client's
  // unnamed Parse, or its Close of a portal): only its place among the others
  // matters. Most Parse messages are unnamed, so it is kept this small.
  struct Plain {
    char type = 0;
    std::uint64_t sync_index = 0;
    std::uint64_t order = 0;
  };

  Expected& wait_for(char type, std::string_view tag, std::uint64_t sync_index, bool loose);
  void wait_for_plain(char type, std::uint64_t sync_index);
  void change(Expected& e, std::string_view name, std::optional<PreparedStatement> statement);
  void arrived(const Expected& e);
  void failed(Expected& e);
  PreparedStatement* with_serial(const std::string& name, std::uint64_t serial);
  std::uint64_t put(std::string_view name, PreparedStatement statement);

  std::unordered_map<std::string, PreparedStatement> statements_;
  std::deque<Expected> strict_;  // in the order of their replies, with plain_
  std::deque<Plain> plain_;      // in the order of their replies, with strict_
  std::deque<Expected> loose_;   // PREPARE, DEALLOCATE and DISCARD ALL in Parse messages
  std::uint64_t next_serial_ = 1;
  std::uint64_t next_order_ = 0;
  // any_stale() found none stale under this stamp, and nothing changed since.
  std::optional<PrepareStamp> none_stale_;
};

}  // namespace pgshim::proxy
