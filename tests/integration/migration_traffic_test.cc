// A whole expand/contract migration under traffic, end to end: one `pgshim serve`
// in front of a real PostgreSQL, an old and a new version of an application (each
// as a simple-protocol, an extended-protocol, a long-lived prepared-statement and
// a long-lived SQL PREPARE client) reading and writing continuously, while the test takes the database
// through planned -> expanded (DDL) -> backfilled (a backfill statement) ->
// contracted (DDL), switching the phase with `pgshim phase` between the steps.
//
// The migration renames users.fullname to display_name and retypes orders.price
// (text, "12.34") to price_cents (bigint, 1234). Every read is checked against what
// the client's version must see (its own writes as written, the other version's
// converted by up/down), every write is counted and found afterwards in the final
// schema, and no client may see a single error during the whole run.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/rules_proxy.h"

namespace pgshim::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kMigration = "traffic_0001";
constexpr const char* kDatabase = "traffic";
constexpr unsigned kTextOid = 25;
constexpr unsigned kInt8Oid = 20;
// Bounds of the run: how long each phase is held under traffic, how many
// iterations a client may make at most, and how long the whole test may take.
constexpr auto kHold = 2s;
constexpr auto kShortHold = 1s;
constexpr auto kSwitchWait = 1500ms;  // the proxy polls the rules directory every second
constexpr long kMaxIterationsPerClient = 20000;
constexpr auto kMaxTestDuration = 60s;
constexpr int kMinIterationsPerHeldStage = 5;
constexpr int kSeedRows = 50;

std::string rule_file(std::string_view phase) {
  return "# The end-to-end traffic test's migration.\n" + shop_rule(kMigration, kDatabase, phase, R"(  - rename_column:
      table: users
      from: fullname
      to: display_name
  - retype_column:
      table: orders
      from: { column: price, type: text }
      to:   { column: price_cents, type: bigint }
      up:   "round(price::numeric * 100)::bigint"
      down: "(price_cents / 100.0)::numeric(12,2)::text"
)", "strict: true\n");
}

// What the database goes through; clients record the stage each statement ran in.
enum Stage : int {
  kPlanned,
  kPlannedExpandedDdl,
  kSwitchingToExpanded,
  kExpanded,
  kExpandedBackfilled,
  kSwitchingToBackfilled,
  kBackfilled,
  kSwitchingToContracted,
  kContracted,
  kContractedDropped,
  kStageCount
};
constexpr std::array<const char*, kStageCount> kStageNames = {
    "planned",
    "planned + ADD COLUMN",
    "switching to expanded",
    "expanded",
    "expanded + backfill UPDATE",
    "switching to backfilled",
    "backfilled",
    "switching to contracted",
    "contracted",
    "contracted + DROP COLUMN",
};
// Stages held long enough that every client must have run in them.
constexpr std::array<Stage, 5> kHeldStages = {kPlanned, kExpanded, kBackfilled, kContracted,
                                              kContractedDropped};

enum class Version { kOld, kNew };
enum class Flavour { kSimple, kExtended, kPrepared, kSqlPrepared };

const char* name_of(Version v) { return v == Version::kOld ? "old" : "new"; }
const char* name_of(Flavour f) {
  switch (f) {
    case Flavour::kSimple: return "simple";
    case Flavour::kExtended: return "extended";
    case Flavour::kPrepared: return "prepared";
    case Flavour::kSqlPrepared: return "sql-prepared";
  }
  return "?";
}

std::string price_text(std::int64_t cents) { return fmt::format("{}.{:02}", cents / 100, cents % 100); }

// The statements each client runs, in its own version's names. $1 is always the id.
enum Kind { kInsertUser, kInsertOrder, kUpdateUser, kUpdateOrder, kSelectUser, kSelectOrder, kKindCount };
constexpr std::array<const char*, kKindCount> kKindNames = {"ins_user",   "ins_order",  "upd_user",
                                                            "upd_order",  "sel_user",   "sel_order"};

// The parameter types of `PREPARE name(types)` for statement_sql(v, k).
std::string statement_types(Version v, Kind k) {
  const char* value = k == kInsertUser || k == kUpdateUser ? "text" : v == Version::kOld ? "text" : "bigint";
  return k == kSelectUser || k == kSelectOrder ? "bigint" : fmt::format("bigint, {}", value);
}

std::string statement_sql(Version v, Kind k) {
  const bool old = v == Version::kOld;
  const char* name = old ? "fullname" : "display_name";
  const char* price = old ? "price" : "price_cents";
  switch (k) {
    case kInsertUser: return fmt::format("INSERT INTO users (id, {}) VALUES ($1, $2)", name);
    case kInsertOrder: return fmt::format("INSERT INTO orders (id, {}) VALUES ($1, $2)", price);
    case kUpdateUser: return fmt::format("UPDATE users SET {} = $2 WHERE id = $1", name);
    case kUpdateOrder: return fmt::format("UPDATE orders SET {} = $2 WHERE id = $1", price);
    case kSelectUser: return fmt::format("SELECT {} FROM users WHERE id = $1", name);
    case kSelectOrder: return fmt::format("SELECT {} FROM orders WHERE id = $1", price);
    case kKindCount: break;
  }
  return "";
}

struct Param {
  std::string value;
  bool text = false;  // quoted as a string literal in the simple protocol
};

// Substitutes $n by literals, for the simple protocol.
std::string inline_params(const std::string& sql, const std::vector<Param>& params) {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      std::size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) n = n * 10 + (sql[j++] - '0');
      const Param& p = params.at(static_cast<std::size_t>(n - 1));
      if (p.text) {
        out += '\'';
        for (char c : p.value) {
          out += c;
          if (c == '\'') out += '\'';
        }
        out += '\'';
      } else {
        out += p.value;
      }
      i = j - 1;
    } else {
      out += sql[i];
    }
  }
  return out;
}

// A row value: the user's name and the order's price in cents (the canonical form;
// old clients write and read it as text with two decimals).
struct Value {
  std::string name;
  std::int64_t cents = 0;
};

// Rows whose owner never updates them again: any client may read them and check
// the other version's conversion.
class Registry {
 public:
  void add(std::int64_t id, Value v) {
    std::lock_guard lock(mutex_);
    rows_.emplace_back(id, std::move(v));
  }
  std::optional<std::pair<std::int64_t, Value>> pick(std::mt19937_64& rng) {
    std::lock_guard lock(mutex_);
    if (rows_.empty()) return std::nullopt;
    return rows_[std::uniform_int_distribution<std::size_t>(0, rows_.size() - 1)(rng)];
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::int64_t, Value>> rows_;
};

struct Failure {
  std::string client;
  std::string stage;
  std::string statement;  // the kind of statement (ins_user, sel_order, ...)
  std::string category;   // what went wrong, without the values
  std::string example;    // the first such failure in full
};

// Client errors, grouped by client, stage, statement and category, in the order
// they first happened, each with a count and its first occurrence in full.
class Failures {
 public:
  void add(Failure f) {
    std::lock_guard lock(mutex_);
    ++count_;
    const std::string key = f.client + '\n' + f.stage + '\n' + f.statement + '\n' + f.category;
    auto [it, inserted] = index_.try_emplace(key, groups_.size());
    if (inserted) groups_.emplace_back(std::move(f), 0);
    ++groups_[it->second].second;
  }
  long count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::string report() {
    std::lock_guard lock(mutex_);
    std::string out = fmt::format("{} client error(s), by client, stage, statement and error:\n", count_);
    for (const auto& [f, n] : groups_) {
      out += fmt::format("  {:>5} x [{}] {} during {}: {}\n        first: {}\n", n, f.client, f.statement, f.stage,
                         f.category, f.example);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  long count_ = 0;
  std::map<std::string, std::size_t> index_;
  std::vector<std::pair<Failure, long>> groups_;
};

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

struct Shared {
  std::atomic<int> stage{kPlanned};
  std::atomic<bool> stop{false};
  Registry registry;
  Failures failures;
};

std::string stage_span(int from, int to) {
  if (from == to) return kStageNames[static_cast<std::size_t>(from)];
  return fmt::format("{} -> {}", kStageNames[static_cast<std::size_t>(from)],
                     kStageNames[static_cast<std::size_t>(to)]);
}

// One application client: a connection through the proxy as `shop-v1-<flavour>` or
// `shop-v2-<flavour>`, writing rows with ids of its own and reading them back.
class Client {
 public:
  Client(int index, Version version, Flavour flavour, std::string dsn, Shared& shared)
      : index_(index),
        version_(version),
        flavour_(flavour),
        name_(fmt::format("{}/{}", name_of(version), name_of(flavour))),
        dsn_(std::move(dsn)),
        shared_(shared),
        rng_(0x5eed0000u + static_cast<unsigned>(index)) {
    for (int k = 0; k < kKindCount; ++k) sql_[static_cast<std::size_t>(k)] = statement_sql(version, static_cast<Kind>(k));
  }

  // Connects (and prepares, for the prepared flavours) before the traffic starts.
  bool connect() {
    conn_.emplace(dsn_);
    if (!conn_->ok()) {
      fail(kSelectUser, shared_.stage.load(), "connect failed", first_line(conn_->error()));
      return false;
    }
    if (flavour_ != Flavour::kPrepared && flavour_ != Flavour::kSqlPrepared) return true;
    for (int k = 0; k < kKindCount; ++k) {
      const int stage = shared_.stage.load();
      const char* name = kKindNames[static_cast<std::size_t>(k)];
      const std::string& sql = sql_[static_cast<std::size_t>(k)];
      Result r = flavour_ == Flavour::kPrepared
                     ? Result(PQprepare(conn_->get(), name, sql.c_str(), 0, nullptr))
                     : conn_->exec(fmt::format("PREPARE {}({}) AS {}", name,
                                               statement_types(version_, static_cast<Kind>(k)), sql));
      if (!r.ok()) {
        fail(static_cast<Kind>(k), stage, "PREPARE failed: " + first_line(r.error()), r.error());
        return false;
      }
    }
    return true;
  }

  void run() {
    if (!conn_ || !conn_->ok()) {
      done_.store(true);
      return;
    }
    while (!shared_.stop.load() && iterations_ < kMaxIterationsPerClient) {
      const int stage = shared_.stage.load();
      ++per_stage_[static_cast<std::size_t>(stage)];
      iteration();
      ++iterations_;
      std::this_thread::sleep_for(1ms);  // 2 shared cores: leave room for the proxy and the server
    }
    done_.store(true);
  }

  [[nodiscard]] bool done() const { return done_.load(); }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::unordered_map<std::int64_t, Value>& users() const { return users_; }
  [[nodiscard]] const std::unordered_map<std::int64_t, Value>& orders() const { return orders_; }
  [[nodiscard]] int in_stage(Stage s) const { return per_stage_[static_cast<std::size_t>(s)]; }
  [[nodiscard]] std::string counts() const {
    std::string stages;
    for (int s = 0; s < kStageCount; ++s) stages += fmt::format("{}{}", s == 0 ? "" : " ", per_stage_[static_cast<std::size_t>(s)]);
    return fmt::format("{:<16} iterations {:>5}  writes {:>5} (inserts {:>5}, updates {:>5})  reads {:>5} (own {:>5}, "
                       "other clients' {:>5})  errors {}  iterations per stage [{}]",
                       name_, iterations_, inserts_ + updates_, inserts_, updates_, own_reads_ + cross_reads_,
                       own_reads_, cross_reads_, errors_, stages);
  }
  [[nodiscard]] long writes() const { return inserts_ + updates_; }

 private:
  std::int64_t next_id() { return static_cast<std::int64_t>(index_ + 1) * 1'000'000 + iterations_; }
  std::int64_t random_cents() { return std::uniform_int_distribution<std::int64_t>(0, 9'999'999)(rng_); }

  Param price_param(std::int64_t cents) const {
    return version_ == Version::kOld ? Param{price_text(cents), true} : Param{std::to_string(cents), false};
  }

  void iteration() {
    // Insert a new row into both tables.
    const std::int64_t id = next_id();
    const Value value{fmt::format("{} row {} v0 'q'", name_, id), random_cents()};
    const bool user_ok = write(kInsertUser, {{std::to_string(id)}, {value.name, true}});
    if (user_ok) {
      users_[id] = value;
      ++inserts_;
    }
    const bool order_ok = write(kInsertOrder, {{std::to_string(id)}, price_param(value.cents)});
    if (order_ok) {
      orders_[id] = value;
      ++inserts_;
    }
    // One row in four is never updated again and published for the other clients to read.
    if (user_ok && order_ok && iterations_ % 4 == 0) {
      shared_.registry.add(id, value);
    } else if (user_ok || order_ok) {
      updatable_.push_back(id);
    }
    // Update one of its own rows every other iteration.
    if (iterations_ % 2 == 1 && !updatable_.empty()) {
      const std::int64_t target = updatable_[std::uniform_int_distribution<std::size_t>(0, updatable_.size() - 1)(rng_)];
      const Value next{fmt::format("{} row {} v{}", name_, target, iterations_), random_cents()};
      if (users_.contains(target) && write(kUpdateUser, {{std::to_string(target)}, {next.name, true}})) {
        users_[target].name = next.name;
        ++updates_;
      }
      if (orders_.contains(target) && write(kUpdateOrder, {{std::to_string(target)}, price_param(next.cents)})) {
        orders_[target].cents = next.cents;
        ++updates_;
      }
    }
    // Read back one of its own rows (the one just written, or an older one).
    if (!users_.empty()) {
      const std::int64_t target = (iterations_ % 3 == 0 || updatable_.empty())
                                      ? id
                                      : updatable_[std::uniform_int_distribution<std::size_t>(0, updatable_.size() - 1)(rng_)];
      if (auto it = users_.find(target); it != users_.end()) read_user(target, it->second.name, false);
      if (auto it = orders_.find(target); it != orders_.end()) read_order(target, it->second.cents, false);
    }
    // Read a row another client (or the seed data) wrote, possibly in the other version.
    if (auto other = shared_.registry.pick(rng_)) {
      read_user(other->first, other->second.name, true);
      read_order(other->first, other->second.cents, true);
    }
  }

  std::optional<Result> execute(Kind kind, const std::vector<Param>& params) {
    const std::string& sql = sql_[static_cast<std::size_t>(kind)];
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.value.c_str());
    switch (flavour_) {
      case Flavour::kSimple: return Result(PQexec(conn_->get(), inline_params(sql, params).c_str()));
      case Flavour::kExtended:
        return Result(PQexecParams(conn_->get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0));
      case Flavour::kPrepared:
        return Result(PQexecPrepared(conn_->get(), kKindNames[static_cast<std::size_t>(kind)],
                                     static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
      case Flavour::kSqlPrepared: return Result(PQexec(conn_->get(), sql_execute(kind, params).c_str()));
    }
    return std::nullopt;
  }

  // `EXECUTE name(literals)` for the SQL PREPARE flavour.
  static std::string sql_execute(Kind kind, const std::vector<Param>& params) {
    std::string placeholders;
    for (std::size_t i = 1; i <= params.size(); ++i) placeholders += fmt::format("{}${}", i == 1 ? "" : ", ", i);
    return inline_params(fmt::format("EXECUTE {}({})", kKindNames[static_cast<std::size_t>(kind)], placeholders),
                         params);
  }

  std::string shown(Kind kind, const std::vector<Param>& params) const {
    const std::string& sql = sql_[static_cast<std::size_t>(kind)];
    switch (flavour_) {
      case Flavour::kSimple: return inline_params(sql, params);
      case Flavour::kExtended: return fmt::format("{} (PQexecParams)", inline_params(sql, params));
      case Flavour::kPrepared:
        return fmt::format("EXECUTE {} [{}] (PQexecPrepared of a statement prepared before the run)",
                           kKindNames[static_cast<std::size_t>(kind)], inline_params(sql, params));
      case Flavour::kSqlPrepared:
        return fmt::format("{} [{}] (of a statement PREPAREd in SQL before the run)", sql_execute(kind, params),
                           inline_params(sql, params));
    }
    return sql;
  }

  void fail(Kind kind, int stage_from, std::string category, const std::string& detail,
            const std::vector<Param>& params = {}) {
    ++errors_;
    const std::string statement = params.empty() ? sql_[static_cast<std::size_t>(kind)] : shown(kind, params);
    std::string example = category.find(detail) == std::string::npos ? fmt::format("{} -- {}", statement, detail)
                                                                      : statement;
    shared_.failures.add({name_, stage_span(stage_from, shared_.stage.load()), kKindNames[static_cast<std::size_t>(kind)],
                          std::move(category), std::move(example)});
  }
  void fail_error(Kind kind, int stage_from, const Result& r, const std::vector<Param>& params) {
    const std::string message = first_line(r.error());
    fail(kind, stage_from, fmt::format("{} {}", r.sqlstate(), message), message, params);
  }

  // A failed statement that broke the connection: reconnect (the error is counted).
  void recover() {
    if (conn_->ok()) return;
    connect();
  }

  bool write(Kind kind, const std::vector<Param>& params) {
    const int stage = shared_.stage.load();
    Result r = *execute(kind, params);
    if (!r.ok()) {
      fail_error(kind, stage, r, params);
      recover();
      return false;
    }
    if (r.command_tuples() != "1") {
      fail(kind, stage, "wrong number of rows affected",
           fmt::format("{} row(s) affected, expected 1 ({})", r.command_tuples(), r.command_status()), params);
      return false;
    }
    return true;
  }

  void check_read(Kind kind, const std::vector<Param>& params, int stage, const Result& r,
                  const std::string& column, unsigned type, const std::string& expected) {
    if (!r.ok()) {
      fail_error(kind, stage, r, params);
      recover();
      return;
    }
    if (r.rows() != 1 || r.columns() != 1) {
      fail(kind, stage, "wrong result shape",
           fmt::format("{} row(s) of {} column(s), expected 1 of 1", r.rows(), r.columns()), params);
      return;
    }
    if (r.column_name(0) != column || r.column_type(0) != type) {
      fail(kind, stage, "wrong result column",
           fmt::format("column {} (type oid {}), expected {} (type oid {})", r.column_name(0), r.column_type(0),
                       column, type),
           params);
      return;
    }
    const std::string got = r.is_null(0, 0) ? "<NULL>" : r.value(0, 0);
    if (got != expected) {
      fail(kind, stage, "wrong value", fmt::format("read '{}', expected '{}'", got, expected), params);
    }
  }

  void read_user(std::int64_t id, const std::string& expected, bool cross) {
    const std::vector<Param> params = {{std::to_string(id)}};
    const int stage = shared_.stage.load();
    Result r = *execute(kSelectUser, params);
    check_read(kSelectUser, params, stage, r, version_ == Version::kOld ? "fullname" : "display_name", kTextOid,
               expected);
    ++(cross ? cross_reads_ : own_reads_);
  }

  void read_order(std::int64_t id, std::int64_t cents, bool cross) {
    const std::vector<Param> params = {{std::to_string(id)}};
    const int stage = shared_.stage.load();
    Result r = *execute(kSelectOrder, params);
    if (version_ == Version::kOld) {
      check_read(kSelectOrder, params, stage, r, "price", kTextOid, price_text(cents));
    } else {
      check_read(kSelectOrder, params, stage, r, "price_cents", kInt8Oid, std::to_string(cents));
    }
    ++(cross ? cross_reads_ : own_reads_);
  }

  const int index_;
  const Version version_;
  const Flavour flavour_;
  const std::string name_;
  const std::string dsn_;
  Shared& shared_;
  std::mt19937_64 rng_;
  std::array<std::string, kKindCount> sql_;
  std::optional<Conn> conn_;
  std::atomic<bool> done_{false};

  long iterations_ = 0;
  long inserts_ = 0;
  long updates_ = 0;
  long own_reads_ = 0;
  long cross_reads_ = 0;
  long errors_ = 0;
  std::array<int, kStageCount> per_stage_{};
  // What this client last wrote, per table.
  std::unordered_map<std::int64_t, Value> users_;
  std::unordered_map<std::int64_t, Value> orders_;
  std::vector<std::int64_t> updatable_;
};

// Runs the clients on their threads; stops and joins them however the test ends.
class Traffic {
 public:
  Traffic(Shared& shared, ProxyProcess& proxy) : shared_(shared), proxy_(proxy) {}
  ~Traffic() { stop(); }
  void start(std::vector<std::unique_ptr<Client>>& clients) {
    for (auto& c : clients) threads_.emplace_back([client = c.get()] { client->run(); });
    clients_ = &clients;
  }
  // Stops the clients; if one is still stuck in a statement after a grace period,
  // kills the proxy so that its call returns. Returns the names of the stuck ones.
  std::vector<std::string> stop() {
    shared_.stop.store(true);
    std::vector<std::string> stuck;
    if (clients_ != nullptr) {
      const auto deadline = Clock::now() + 20s;
      auto all_done = [&] {
        return std::all_of(clients_->begin(), clients_->end(), [](const auto& c) { return c->done(); });
      };
      while (!all_done() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
      for (const auto& c : *clients_) {
        if (!c->done()) stuck.push_back(c->name());
      }
      if (!stuck.empty() && proxy_.pid() > 0) kill(proxy_.pid(), SIGKILL);
    }
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
    return stuck;
  }

 private:
  Shared& shared_;
  ProxyProcess& proxy_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<Client>>* clients_ = nullptr;
};

// The proxy's log without its per-statement refusal lines (they are counted): the
// reloads, schema reads and warnings, the last `max_lines` of them.
std::string log_digest(const std::string& log, std::size_t max_lines = 60) {
  std::vector<std::string> kept;
  std::size_t refused = 0;
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.find(": refused [") != std::string::npos) {
      ++refused;
    } else if (!line.empty()) {
      kept.push_back(std::move(line));
    }
  }
  std::string out = fmt::format("proxy log ({} refusal line(s) left out):\n", refused);
  for (std::size_t i = kept.size() > max_lines ? kept.size() - max_lines : 0; i < kept.size(); ++i) {
    out += "  " + kept[i].substr(0, 400) + "\n";
  }
  return out;
}

class MigrationTrafficTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pgshim-traffic-rules-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    rules_dir_ = tmpl;
    std::ofstream(rules_dir_ + "/traffic.yaml") << rule_file("planned");
  }
  void TearDown() override {
    std::error_code ec;
    if (!rules_dir_.empty()) std::filesystem::remove_all(rules_dir_, ec);
  }

  // `pgshim phase`, then waits until the proxy has reloaded and at least
  // kSwitchWait has passed, so that every session has taken the new rules at its
  // next transaction boundary.
  void set_phase(ProxyProcess& proxy, std::string_view phase) {
    const auto started = Clock::now();
    const std::string error = proxy.set_phase(kMigration, phase);
    ASSERT_EQ(error, "");
    std::this_thread::sleep_until(started + kSwitchWait);
  }

  std::string rules_dir_;
};

TEST_F(MigrationTrafficTest, OldAndNewClientsReadAndWriteThroughAWholeMigration) {
  const auto test_start = Clock::now();
  auto& pg = PgServer::shared();
  pg.create_database(kDatabase);
  // No NOT NULL on the old columns: once contracted, nothing writes them until they are dropped.
  pg.exec("CREATE TABLE users (id bigint PRIMARY KEY, fullname text);"
          "CREATE TABLE orders (id bigint PRIMARY KEY, price text)",
          kDatabase);

  Shared shared;
  // Rows that exist before the migration starts, written by the old schema.
  std::map<std::int64_t, Value> seed;
  {
    std::string sql;
    for (int i = 1; i <= kSeedRows; ++i) {
      const Value v{fmt::format("seed {}", i), static_cast<std::int64_t>(i) * 1234 + (i % 7)};
      sql += fmt::format("INSERT INTO users VALUES ({0}, '{1}'); INSERT INTO orders VALUES ({0}, '{2}');", i, v.name,
                         price_text(v.cents));
      seed[i] = v;
      shared.registry.add(i, v);
    }
    pg.exec(sql, kDatabase);
  }

  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable"}, .rules_dir = rules_dir_});
  Conn admin(pg.dsn(kDatabase));
  ASSERT_TRUE(admin.ok()) << admin.error();
  // DDL waits for its AccessExclusive lock behind the clients' short statements, never forever.
  ASSERT_TRUE(admin.exec("SET lock_timeout = '15s'").ok());

  std::vector<std::unique_ptr<Client>> clients;
  int index = 0;
  for (Version v : {Version::kOld, Version::kNew}) {
    for (Flavour f : {Flavour::kSimple, Flavour::kExtended, Flavour::kPrepared, Flavour::kSqlPrepared}) {
      const std::string dsn = proxy.dsn(kDatabase, "postgres",
                                        fmt::format("sslmode=disable application_name=shop-v{}-{}",
                                                    v == Version::kOld ? 1 : 2, name_of(f)));
      clients.push_back(std::make_unique<Client>(index++, v, f, dsn, shared));
    }
  }
  for (auto& c : clients) {
    ASSERT_TRUE(c->connect()) << shared.failures.report() << log_digest(proxy.log());
  }

  Traffic traffic(shared, proxy);
  traffic.start(clients);
  auto enter = [&](Stage s) { shared.stage.store(s); };
  auto ddl = [&](const char* sql) {
    Result r = admin.exec(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error();
  };

  // planned: only the old columns exist.
  std::this_thread::sleep_for(kHold);
  // expand: the new columns, then the phase that writes both.
  ASSERT_NO_FATAL_FAILURE(ddl("ALTER TABLE users ADD COLUMN display_name text"));
  ASSERT_NO_FATAL_FAILURE(ddl("ALTER TABLE orders ADD COLUMN price_cents bigint"));
  enter(kPlannedExpandedDdl);
  std::this_thread::sleep_for(kShortHold);
  enter(kSwitchingToExpanded);
  ASSERT_NO_FATAL_FAILURE(set_phase(proxy, "expanded"));
  enter(kExpanded);
  std::this_thread::sleep_for(kHold);
  // backfill: copy up(old) into the new columns while the clients keep writing both.
  ASSERT_NO_FATAL_FAILURE(ddl("UPDATE users SET display_name = fullname WHERE display_name IS DISTINCT FROM fullname"));
  ASSERT_NO_FATAL_FAILURE(ddl("UPDATE orders SET price_cents = round(price::numeric * 100)::bigint "
                              "WHERE price_cents IS DISTINCT FROM round(price::numeric * 100)::bigint"));
  enter(kExpandedBackfilled);
  std::this_thread::sleep_for(kShortHold);
  enter(kSwitchingToBackfilled);
  ASSERT_NO_FATAL_FAILURE(set_phase(proxy, "backfilled"));
  enter(kBackfilled);
  std::this_thread::sleep_for(kHold);
  // contract: the phase that reads the new columns only, then drop the old ones.
  enter(kSwitchingToContracted);
  ASSERT_NO_FATAL_FAILURE(set_phase(proxy, "contracted"));
  enter(kContracted);
  std::this_thread::sleep_for(kShortHold);
  ASSERT_NO_FATAL_FAILURE(ddl("ALTER TABLE users DROP COLUMN fullname"));
  ASSERT_NO_FATAL_FAILURE(ddl("ALTER TABLE orders DROP COLUMN price"));
  enter(kContractedDropped);
  std::this_thread::sleep_for(kHold);

  const std::vector<std::string> stuck = traffic.stop();
  const auto elapsed = Clock::now() - test_start;

  // Per-client counts.
  std::string summary = fmt::format("stages: ");
  for (int s = 0; s < kStageCount; ++s) summary += fmt::format("{}{}={}", s == 0 ? "" : ", ", s, kStageNames[static_cast<std::size_t>(s)]);
  summary += "\n";
  long total_writes = 0;
  for (const auto& c : clients) {
    summary += "  " + c->counts() + "\n";
    total_writes += c->writes();
  }
  std::printf("migration under traffic, %.1f s, %ld writes through pgshim:\n%s", std::chrono::duration<double>(elapsed).count(),
              total_writes, summary.c_str());
  std::fflush(stdout);

  std::string stuck_names;
  for (const auto& s : stuck) stuck_names += " " + s;
  EXPECT_TRUE(stuck.empty()) << "clients stuck in a statement at the end:" << stuck_names;
  EXPECT_EQ(shared.failures.count(), 0) << shared.failures.report() << log_digest(proxy.log());
  EXPECT_LT(elapsed, kMaxTestDuration);
  for (const auto& c : clients) {
    for (Stage s : kHeldStages) {
      EXPECT_GE(c->in_stage(s), kMinIterationsPerHeldStage)
          << c->name() << " ran too few iterations while " << kStageNames[static_cast<std::size_t>(s)];
    }
  }

  // Every write is there, with the last value written, in the final schema.
  Result users = admin.exec("SELECT id, display_name FROM users");
  ASSERT_TRUE(users.ok()) << users.error();
  Result orders = admin.exec("SELECT id, price_cents FROM orders");
  ASSERT_TRUE(orders.ok()) << orders.error();
  EXPECT_EQ(admin.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name IN ('users', 'orders') "
                         "AND column_name IN ('fullname', 'price')"),
            "0");
  std::unordered_map<std::int64_t, std::optional<std::string>> db_users;
  std::unordered_map<std::int64_t, std::optional<std::string>> db_orders;
  for (int r = 0; r < users.rows(); ++r) {
    db_users[std::stoll(users.value(r, 0))] = users.is_null(r, 1) ? std::nullopt : std::optional(users.value(r, 1));
  }
  for (int r = 0; r < orders.rows(); ++r) {
    db_orders[std::stoll(orders.value(r, 0))] = orders.is_null(r, 1) ? std::nullopt : std::optional(orders.value(r, 1));
  }
  std::size_t expected_users = seed.size();
  std::size_t expected_orders = seed.size();
  std::vector<std::string> lost;
  auto check = [&](const std::string& who, const char* table, std::int64_t id, const std::string& expected,
                   const std::unordered_map<std::int64_t, std::optional<std::string>>& db) {
    auto it = db.find(id);
    if (it == db.end()) {
      lost.push_back(fmt::format("{}: {} id {} is missing (expected '{}')", who, table, id, expected));
    } else if (it->second != expected) {
      lost.push_back(fmt::format("{}: {} id {} is '{}', expected '{}'", who, table, id, it->second.value_or("<NULL>"),
                                 expected));
    }
  };
  for (const auto& [id, v] : seed) {
    check("seed", "users", id, v.name, db_users);
    check("seed", "orders", id, std::to_string(v.cents), db_orders);
  }
  for (const auto& c : clients) {
    for (const auto& [id, v] : c->users()) check(c->name(), "users", id, v.name, db_users);
    for (const auto& [id, v] : c->orders()) check(c->name(), "orders", id, std::to_string(v.cents), db_orders);
    expected_users += c->users().size();
    expected_orders += c->orders().size();
  }
  EXPECT_EQ(db_users.size(), expected_users) << "rows in users that no client wrote, or lost ones";
  EXPECT_EQ(db_orders.size(), expected_orders) << "rows in orders that no client wrote, or lost ones";
  std::string lost_report;
  for (std::size_t i = 0; i < lost.size() && i < 20; ++i) lost_report += "  " + lost[i] + "\n";
  EXPECT_TRUE(lost.empty()) << lost.size() << " write(s) not found with their last value:\n" << lost_report;
}

}  // namespace
}  // namespace pgshim::testing
