// The bookkeeping of a session's prepared statements: changes applied when
// sent and undone when their batch ends without their reply, replies matched in
// order, the proxy's own replies dropped, missed re-preparations retried.
#include "proxy/prepared_statements.h"

#include <gtest/gtest.h>

#include <string>

namespace pgshim::proxy {
namespace {

using namespace std::literals;

constexpr PrepareStamp kV1{1, 1};
constexpr PrepareStamp kV2{2, 1};

PreparedStatement sql_statement(std::string body, PrepareStamp stamp = kV1) {
  PreparedStatement s;
  s.original = body;
  s.sent = std::move(body);
  s.from_sql = true;
  s.stamp = stamp;
  return s;
}

std::string original_of(PreparedStatements& statements, std::string_view name) {
  const PreparedStatement* s = statements.find(name);
  return s == nullptr ? "<none>" : s->original;
}

// A reply; returns "dropped", "forwarded" (waited for) or "other" (not waited for).
std::string reply(PreparedStatements& statements, char type, std::string_view body, std::uint64_t batch) {
  bool drop = false;
  if (!statements.on_reply(type, body, batch, drop)) return "other";
  return drop ? "dropped" : "forwarded";
}

// `name` made by a Parse in batch 2, then closed and parsed again by the proxy in batch 3.
void parsed_then_prepared_again(PreparedStatements& statements, std::string_view name, std::string body) {
  statements.parsed(name, sql_statement(std::move(body)), 2);
  reply(statements, '1', "", 2);
  statements.on_ready(2);
  statements.expect_own('3', "", 3, name, ReplyEffect::kRemoved);
  statements.expect_own('1', "", 3, name, ReplyEffect::kPrepared);
}

TEST(PreparedStatements, ConfirmedChangesStay) {
  PreparedStatements statements;
  statements.sql_prepare("p", sql_statement("SELECT 1"), 2, false);
  statements.parsed("s", sql_statement("SELECT 2"), 2);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 1");
  EXPECT_EQ(reply(statements, 'C', "PREPARE\0"sv, 2), "forwarded");
  EXPECT_EQ(reply(statements, '1', "", 2), "forwarded");
  EXPECT_FALSE(statements.awaits_replies());
  statements.on_ready(2);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 1");
  EXPECT_EQ(original_of(statements, "s"), "SELECT 2");
}

TEST(PreparedStatements, AChangeWithoutItsReplyIsUndone) {
  PreparedStatements statements;
  statements.sql_prepare("p", sql_statement("SELECT 'first'"), 2, false);
  reply(statements, 'C', "PREPARE\0"sv, 2);
  statements.on_ready(2);
  // `PREPARE p` again fails on the server (p exists): the first p is kept.
  statements.sql_prepare("p", sql_statement("SELECT 'second'"), 3, false);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 'second'");
  statements.on_ready(3);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 'first'");
  // A PREPARE that failed leaves nothing.
  statements.sql_prepare("q", sql_statement("SELECT bad"), 4, false);
  statements.on_ready(4);
  EXPECT_EQ(statements.find("q"), nullptr);
  // A Parse of a taken name fails too.
  statements.parsed("p", sql_statement("SELECT 'parse'"), 5);
  statements.on_ready(5);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 'first'");
}

TEST(PreparedStatements, DeallocateCloseAndDiscardAllAreUndoneWhenTheyDidNotRun) {
  PreparedStatements statements;
  statements.sql_prepare("a", sql_statement("SELECT 'a'"), 2, false);
  statements.parsed("b", sql_statement("SELECT 'b'"), 2);
  reply(statements, 'C', "PREPARE\0"sv, 2);
  reply(statements, '1', "", 2);
  statements.on_ready(2);
  // DISCARD ALL in a transaction block fails: both stay.
  statements.sql_deallocate_all("DISCARD ALL", 3, false);
  EXPECT_TRUE(statements.empty());
  statements.on_ready(3);
  EXPECT_EQ(statements.size(), 2u);
  // DEALLOCATE and Close skipped after an earlier error: both stay.
  statements.sql_deallocate("a", 4, false);
  statements.closed('S', "b", 4);
  EXPECT_TRUE(statements.empty());
  statements.on_ready(4);
  EXPECT_EQ(original_of(statements, "a"), "SELECT 'a'");
  EXPECT_EQ(original_of(statements, "b"), "SELECT 'b'");
  // They ran: both gone.
  statements.sql_deallocate("a", 5, false);
  statements.closed('S', "b", 5);
  EXPECT_EQ(reply(statements, 'C', "DEALLOCATE\0"sv, 5), "forwarded");
  EXPECT_EQ(reply(statements, '3', "", 5), "forwarded");
  statements.on_ready(5);
  EXPECT_TRUE(statements.empty());
  EXPECT_FALSE(statements.awaits_replies());
}

TEST(PreparedStatements, LaterChangesOfABatchAreUndoneFirst) {
  PreparedStatements statements;
  // One Query: PREPARE p AS 'A'; DEALLOCATE p; PREPARE p AS 'B', where the DEALLOCATE fails.
  statements.sql_prepare("p", sql_statement("SELECT 'A'"), 2, false);
  statements.sql_deallocate("p", 2, false);
  statements.sql_prepare("p", sql_statement("SELECT 'B'"), 2, false);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 'B'");
  EXPECT_EQ(reply(statements, 'C', "PREPARE\0"sv, 2), "forwarded");
  statements.on_ready(2);
  EXPECT_EQ(original_of(statements, "p"), "SELECT 'A'");
}

TEST(PreparedStatements, OwnRepliesAreDroppedInOrderOnly) {
  PreparedStatements statements;
  parsed_then_prepared_again(statements, "s", "SELECT 1");
  // A reply of another type, or of another batch, is not one of them.
  EXPECT_EQ(reply(statements, '1', "", 3), "other");
  EXPECT_EQ(reply(statements, '3', "", 4), "other");
  EXPECT_EQ(reply(statements, '3', "", 3), "dropped");
  EXPECT_FALSE(statements.find("s")->on_server);
  EXPECT_EQ(reply(statements, '2', "", 3), "other");
  EXPECT_EQ(reply(statements, '1', "", 3), "dropped");
  EXPECT_TRUE(statements.find("s")->on_server);
  EXPECT_EQ(reply(statements, '1', "", 3), "other");
  statements.on_ready(3);
  EXPECT_FALSE(PreparedStatements::stale(*statements.find("s"), kV1));
}

TEST(PreparedStatements, AMissedPreparationIsRetriedAtTheNextUse) {
  PreparedStatements statements;
  statements.sql_prepare("p", sql_statement("SELECT 1"), 2, false);
  reply(statements, 'C', "PREPARE\0"sv, 2);
  statements.on_ready(2);
  // DEALLOCATE p ran, PREPARE p failed.
  statements.expect_own('C', "DEALLOCATE", 3, "p", ReplyEffect::kRemoved);
  statements.expect_own('C', "PREPARE", 3, "p", ReplyEffect::kPrepared);
  // The CommandComplete of the client's own statement before them is not theirs.
  EXPECT_EQ(reply(statements, 'C', "SELECT 1\0"sv, 3), "other");
  EXPECT_EQ(reply(statements, 'C', "DEALLOCATE\0"sv, 3), "dropped");
  statements.on_ready(3);
  const PreparedStatement* p = statements.find("p");
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->on_server);
  EXPECT_EQ(p->sent, "");  // whatever text it is next time, it is prepared
  EXPECT_TRUE(PreparedStatements::stale(*p, kV1));
  EXPECT_TRUE(PreparedStatements::stale(*p, kV2));
  EXPECT_FALSE(statements.awaits_replies());
}

TEST(PreparedStatements, RepliesForAReplacedStatementLeaveTheNewOneAlone) {
  PreparedStatements statements;
  parsed_then_prepared_again(statements, "s", "SELECT 'old'");
  statements.closed('S', "s", 3);
  statements.parsed("s", sql_statement("SELECT 'new'"), 3);
  EXPECT_EQ(reply(statements, '3', "", 3), "dropped");
  EXPECT_EQ(reply(statements, '1', "", 3), "dropped");
  // Meant for the statement the client then closed: the new one is not marked by them.
  EXPECT_EQ(original_of(statements, "s"), "SELECT 'new'");
  EXPECT_TRUE(statements.find("s")->on_server);
  EXPECT_EQ(reply(statements, '3', "", 3), "forwarded");
  EXPECT_EQ(reply(statements, '1', "", 3), "forwarded");
  statements.on_ready(3);
  EXPECT_EQ(original_of(statements, "s"), "SELECT 'new'");
  EXPECT_FALSE(PreparedStatements::stale(*statements.find("s"), kV1));
}

TEST(PreparedStatements, CommandsOfAParseAreWaitedForApartAndNeverDropped) {
  PreparedStatements statements;
  // Parse "PREPARE x AS ...", then the proxy's Close and Parse of s for a later Bind.
  statements.sql_prepare("x", sql_statement("SELECT 'x'"), 2, true);
  statements.parsed("", PreparedStatement{}, 2);
  statements.expect_own('3', "", 2, "s", ReplyEffect::kRemoved);
  EXPECT_EQ(reply(statements, '1', "", 2), "forwarded");
  EXPECT_EQ(reply(statements, 'C', "PREPARE\0"sv, 2), "forwarded");
  EXPECT_EQ(reply(statements, '3', "", 2), "dropped");
  statements.on_ready(2);
  EXPECT_EQ(original_of(statements, "x"), "SELECT 'x'");
  // Not executed in its batch: undone, and no reply waits for it any more.
  statements.sql_deallocate("x", 3, true);
  statements.on_ready(3);
  EXPECT_EQ(original_of(statements, "x"), "SELECT 'x'");
  EXPECT_FALSE(statements.awaits_replies());
}

// The replies to an unnamed Parse and to the Close of a portal change nothing,
// but keep their place among the proxy's own: the same types come in turn.
TEST(PreparedStatements, PlainRepliesKeepTheirPlaceAmongTheProxysOwn) {
  PreparedStatements statements;
  statements.parsed("", PreparedStatement{}, 2);
  statements.expect_own('1', "", 2, "s", ReplyEffect::kNone);
  statements.closed('P', "portal", 2);
  statements.expect_own('3', "", 2, "s", ReplyEffect::kNone);
  statements.parsed_unnamed(2);  // what the session calls: parsed("", ...) without a statement
  EXPECT_TRUE(statements.awaits_replies());
  EXPECT_EQ(reply(statements, '1', "", 2), "forwarded");
  EXPECT_EQ(reply(statements, '1', "", 2), "dropped");
  EXPECT_EQ(reply(statements, '3', "", 2), "forwarded");
  EXPECT_EQ(reply(statements, '3', "", 2), "dropped");
  EXPECT_EQ(reply(statements, '1', "", 2), "forwarded");
  statements.on_ready(2);
  EXPECT_FALSE(statements.awaits_replies());
  // An error ends batch 3 before its unnamed Parse: batch 4's replies match their own.
  statements.parsed_unnamed(3);
  statements.expect_own('1', "", 4, "s", ReplyEffect::kNone);
  EXPECT_EQ(reply(statements, '1', "", 4), "other");
  statements.on_ready(3);
  EXPECT_EQ(reply(statements, '1', "", 4), "dropped");
  statements.on_ready(4);
  EXPECT_FALSE(statements.awaits_replies());
}

TEST(PreparedStatements, AnyStaleIsRememberedUntilSomethingChanges) {
  PreparedStatements statements;
  EXPECT_FALSE(statements.any_stale(kV1));
  statements.sql_prepare("p", sql_statement("SELECT 1", kV1), 2, false);
  EXPECT_FALSE(statements.any_stale(kV1));
  EXPECT_TRUE(statements.any_stale(kV2));
  EXPECT_FALSE(statements.any_stale(kV1));
  statements.prepare_again_later(*statements.find("p"));
  EXPECT_TRUE(statements.any_stale(kV1));
  statements.find("p")->stamp = kV1;
  statements.sql_prepare("q", sql_statement("SELECT 2", kV2), 2, false);
  EXPECT_TRUE(statements.any_stale(kV1));
}

}  // namespace
}  // namespace pgshim::proxy
