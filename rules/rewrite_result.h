// What a rewrite returns, and who it is for. Plain data: a session answers an
// error with ErrorResponse directly, sends rewritten text instead of the
// client's, or forwards the original bytes when the statement is unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parser/text_edit.h"
#include "rules/model.h"

namespace pgshim::rules {

// Which migrations apply to a session and which schema version it speaks in
// each (DESIGN.md section 2: the version is decided per migration, at startup).
// Bit i stands for RuleSet::migrations[i]; at most 64 migrations.
struct ClientProfile {
  std::uint64_t active = ~std::uint64_t{0};  // the migration applies to the session's database
  std::uint64_t speaks_new = 0;             // the client speaks `new` for that migration

  [[nodiscard]] static ClientProfile uniform(ClientVersion version) {
    return ClientProfile{~std::uint64_t{0}, version == ClientVersion::kNew ? ~std::uint64_t{0} : 0};
  }
  [[nodiscard]] bool is_active(std::size_t migration) const { return (active >> migration) & 1U; }
  [[nodiscard]] ClientVersion version(std::size_t migration) const {
    return ((speaks_new >> migration) & 1U) != 0 ? ClientVersion::kNew : ClientVersion::kOld;
  }
  friend bool operator==(const ClientProfile&, const ClientProfile&) = default;
};

enum class RewriteStatus : std::uint8_t {
  kUnchanged,  // send the client's text as is, byte for byte
  kRewritten,  // send `sql`
  kError,      // answer ErrorResponse with `sqlstate` and `message`
};

// One change of one migration that shaped the result (for metrics).
struct AppliedChange {
  std::uint32_t migration = 0;
  std::uint32_t change = 0;
  friend bool operator==(const AppliedChange&, const AppliedChange&) = default;
};

struct RewriteResult {
  RewriteStatus status = RewriteStatus::kUnchanged;
  std::string sql;       // kRewritten: the text to send
  std::string sqlstate;  // kError: e.g. "0A000"
  std::string message;   // kError: "pgshim: cannot rewrite ...: ..."
  // kRewritten: where each edit landed, to map an ErrorResponse position in the
  // rewritten text back to the client's (parser::map_to_source).
  std::vector<parser::EditMapping> mappings;
  std::vector<AppliedChange> applied;

  [[nodiscard]] static RewriteResult unchanged() { return RewriteResult{}; }
  [[nodiscard]] static RewriteResult error(std::string sqlstate, std::string message) {
    RewriteResult r;
    r.status = RewriteStatus::kError;
    r.sqlstate = std::move(sqlstate);
    r.message = std::move(message);
    return r;
  }
  [[nodiscard]] bool ok() const { return status != RewriteStatus::kError; }
};

// Maps the position of an ErrorResponse (`P` field: 1-based, in characters of
// UTF-8 text) in the rewritten SQL back to the client's SQL. A position inside
// rewritten text maps to the start of what it replaced; 0 stays 0.
[[nodiscard]] int map_error_position(const RewriteResult& result, std::string_view original, int position);

// SQLSTATEs the rewriter answers with.
inline constexpr const char* kFeatureNotSupported = "0A000";
inline constexpr const char* kUndefinedColumn = "42703";

}  // namespace pgshim::rules
