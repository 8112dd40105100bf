#include "proxy/cli_backfill.h"

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "rules/backfill_plan.h"
#include "rules/identifier.h"
#include "rules/loader.h"
#include "rules/names.h"

namespace pgshim::proxy {
namespace {

using Clock = std::chrono::steady_clock;

struct BackfillFlags {
  std::string rules_dir;
  std::string dsn;
  std::string migration;
  std::string table;
  int batch = 1000;
  int pause_ms = 0;
  long long max_lag_bytes = 0;
  int lock_timeout_ms = 2000;
  int max_retries = 30;
  int progress_every_ms = 5000;
  bool dry_run = false;
};

// Set by SIGINT/SIGTERM: stop after the batch in flight. A second signal exits at
// once; the server rolls back the batch in flight when the connection drops.
std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  if (g_stop.exchange(true)) _exit(1);
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Sleeps in small steps so that a stop signal is noticed; false when stopped.
bool sleep_unless_stopped(std::chrono::milliseconds total) {
  const auto end = Clock::now() + total;
  while (Clock::now() < end) {
    if (g_stop) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(50), end - Clock::now()));
  }
  return !g_stop;
}

struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultClearer>;

class Db {
 public:
  explicit Db(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str())) {}
  ~Db() { PQfinish(conn_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  [[nodiscard]] bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  [[nodiscard]] std::string error() const { return PQerrorMessage(conn_); }

  Result exec(std::string_view sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    return Result(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
  }

 private:
  PGconn* conn_;
};

bool ok(const Result& r) {
  const auto s = PQresultStatus(r.get());
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}
std::string sqlstate(const Result& r) {
  const char* s = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  return s == nullptr ? "" : s;
}
std::string message(const Result& r) {
  std::string m = PQresultErrorMessage(r.get());
  while (!m.empty() && m.back() == '\n') m.pop_back();
  return m;
}
std::string value(const Result& r, int row, int column) { return PQgetvalue(r.get(), row, column); }
bool is_null(const Result& r, int row, int column) { return PQgetisnull(r.get(), row, column) != 0; }

// A text[] as PostgreSQL prints it, for key values (which never hold NULL).
std::vector<std::string> parse_text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  std::string current;
  bool quoted = false, in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '\\' && i + 1 < text.size()) current += text[++i];
      else if (c == '"') in_quotes = false;
      else current += c;
    } else if (c == '"') {
      in_quotes = quoted = true;
    } else if (c == ',') {
      out.push_back(current);
      current.clear();
      quoted = false;
    } else {
      current += c;
    }
  }
  if (!current.empty() || quoted || !out.empty()) out.push_back(current);
  return out;
}

std::string describe_key(const rules::TableKey& key, const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < key.columns.size(); ++i) {
    out += fmt::format("{}{} = {}", i > 0 ? ", " : "", rules::display_identifier(key.columns[i].name),
                       i < values.size() ? values[i] : "?");
  }
  return out;
}

// One table to do: the plan and what the catalog says about the table.
struct Job {
  rules::BackfillPlan plan;
  long long estimate = -1;  // pg_class.reltuples; -1 when never analysed
};

// Resolves the table, checks its columns and chooses its key; "" or the error.
std::string prepare_job(Db& db, const rules::BackfillTarget& target, int batch, Job& job) {
  const std::string name = rules::display_table_name(target.table);
  std::string regclass = target.table.schema.empty() ? "" : rules::quote_identifier(target.table.schema) + ".";
  regclass += rules::quote_identifier(target.table.name);
  Result table = db.exec(
      "SELECT c.oid::text, n.nspname, c.reltuples::bigint FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
      {regclass});
  if (!ok(table)) return fmt::format("{}: cannot read the catalog: {}", name, message(table));
  if (PQntuples(table.get()) == 0) return fmt::format("{}: no such table", name);
  const std::string oid = value(table, 0, 0);
  const std::string schema = value(table, 0, 1);
  job.estimate = std::stoll(value(table, 0, 2));
  Result columns = db.exec(
      "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped",
      {oid});
  if (!ok(columns)) return fmt::format("{}: cannot read the columns: {}", name, message(columns));
  std::vector<std::string> present, written;
  for (int i = 0; i < PQntuples(columns.get()); ++i) present.push_back(value(columns, i, 0));
  for (const auto& copy : target.copies) {
    for (const auto& column : {copy.from, copy.to}) {
      if (std::find(present.begin(), present.end(), column) == present.end()) {
        return fmt::format(
            "{}: column {} does not exist, but phase expanded says it does; add it (or run `pgshim check --dsn`)",
            name, rules::display_identifier(column));
      }
    }
    written.push_back(copy.to);
  }
  Result keys = db.exec(rules::kKeyCatalogQuery, {oid});
  if (!ok(keys)) return fmt::format("{}: cannot read the indexes: {}", name, message(keys));
  std::vector<rules::KeyCandidateRow> rows;
  for (int i = 0; i < PQntuples(keys.get()); ++i) {
    rows.push_back({value(keys, i, 0), value(keys, i, 1) == "t", std::stoi(value(keys, i, 2)),
                    is_null(keys, i, 3) ? "" : value(keys, i, 3), value(keys, i, 4), value(keys, i, 5) == "t"});
  }
  const auto key = rules::choose_key(rows, written);
  if (!key) {
    return fmt::format(
        "{}: no usable key: backfill walks a table by its primary key or by a unique index whose columns are "
        "all NOT NULL, and this table has neither; add one (for example ALTER TABLE {} ADD PRIMARY KEY (id))",
        name, name);
  }
  job.plan = rules::plan_backfill(target, schema, *key, batch);
  return "";
}

// Rows done, rate and ETA: a bar redrawn in place on a terminal, otherwise a
// plain line every `every`.
class ProgressView {
 public:
  ProgressView(std::string table, long long estimate, long long done_before, std::chrono::milliseconds every)
      : table_(std::move(table)), estimate_(estimate), done_before_(done_before), every_(every),
        tty_(isatty(STDOUT_FILENO) != 0), start_(Clock::now()), last_(start_) {}

  void update(long long done, bool final = false) {
    const auto now = Clock::now();
    if (!final && now - last_ < (tty_ ? std::chrono::milliseconds(200) : every_)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done - done_before_) / seconds : 0;
    const long long total = std::max(estimate_, done);
    std::string eta = "?";
    if (estimate_ > 0 && rate > 0) eta = format_duration(static_cast<double>(total - done) / rate);
    const int percent = total > 0 ? static_cast<int>(100 * done / total) : 0;
    if (tty_) {
      const int filled = percent * 30 / 100;
      std::cout << fmt::format("\r{} [{}{}] {:3}% {}/{} rows, {:.0f} rows/s, ETA {}   ", table_,
                               std::string(filled, '#'), std::string(30 - filled, '.'), percent, done,
                               estimate_ >= 0 ? std::to_string(total) : "?", rate, eta);
      if (final) std::cout << "\n";
      std::cout << std::flush;
    } else {
      std::cout << fmt::format("{}: {} of ~{} rows ({}%), {:.0f} rows/s, ETA {}\n", table_, done,
                               estimate_ >= 0 ? std::to_string(total) : "?", percent, rate, eta)
                << std::flush;
    }
  }

 private:
  static std::string format_duration(double seconds) {
    const auto s = static_cast<long long>(seconds);
    return s >= 3600 ? fmt::format("{}h{:02}m", s / 3600, s / 60 % 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  std::string table_;
  long long estimate_;
  long long done_before_;
  std::chrono::milliseconds every_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_;
};

enum class Outcome { kDone, kStopped, kFailed };

class TableRun {
 public:
  TableRun(Db& db, const BackfillFlags& flags, const Job& job) : db_(db), flags_(flags), job_(job) {}

  Outcome run() {
    const auto& plan = job_.plan;
    if (!load_progress()) return Outcome::kFailed;
    ProgressView view(plan.progress_name, job_.estimate, rows_done_,
                      std::chrono::milliseconds(flags_.progress_every_ms));
    while (!g_stop) {
      if (!wait_for_lag()) break;
      auto batch = run_batch();
      if (!batch) return Outcome::kFailed;
      if (*batch == 0) {
        view.update(rows_done_, true);
        return verify();
      }
      view.update(rows_done_);
      if (flags_.pause_ms > 0) sleep_unless_stopped(std::chrono::milliseconds(flags_.pause_ms));
    }
    view.update(rows_done_, true);
    std::cout << fmt::format("{}: stopped after key ({}); {} rows done, {} changed, all committed\n",
                             plan.progress_name, describe_key(plan.key, last_key_), rows_done_, rows_updated_);
    return Outcome::kStopped;
  }

 private:
  std::vector<std::string> params(bool with_key) const {
    std::vector<std::string> p = {job_.plan.target.migration, job_.plan.progress_name, job_.plan.key_list};
    if (with_key) p.insert(p.end(), last_key_.begin(), last_key_.end());
    return p;
  }

  // Resumes after the last committed batch of an unfinished run; a finished run,
  // or one that walked another key, starts a fresh pass.
  bool load_progress() {
    const auto& plan = job_.plan;
    Result r = db_.exec(rules::kProgressSelect, {plan.target.migration, plan.progress_name});
    if (!ok(r)) return fail("cannot read the progress table: " + message(r));
    if (PQntuples(r.get()) == 0) return true;
    std::string restart;
    if (!is_null(r, 0, 4)) restart = fmt::format("a previous run finished at {}; starting a fresh pass", value(r, 0, 4));
    else if (value(r, 0, 0) != plan.key_list) restart = "the previous run walked another key; starting over";
    if (!restart.empty()) {
      std::cout << plan.progress_name << ": " << restart << "\n";
      Result d = db_.exec(rules::kProgressDelete, {plan.target.migration, plan.progress_name});
      return ok(d) || fail("cannot reset the progress row: " + message(d));
    }
    last_key_ = parse_text_array(value(r, 0, 1));
    rows_done_ = std::stoll(value(r, 0, 2));
    rows_updated_ = std::stoll(value(r, 0, 3));
    std::cout << fmt::format("{}: resuming after key ({}); {} rows done before\n", plan.progress_name,
                             describe_key(plan.key, last_key_), rows_done_);
    return true;
  }

  bool wait_for_lag() {
    if (flags_.max_lag_bytes <= 0) return true;
    auto last_said = Clock::now() - std::chrono::hours(1);
    while (!g_stop) {
      Result r = db_.exec(
          "SELECT COALESCE(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::bigint "
          "FROM pg_stat_replication");
      if (!ok(r)) {
        std::cerr << "cannot read the replication lag (" << message(r) << "); not waiting for it\n";
        return true;
      }
      const long long lag = std::stoll(value(r, 0, 0));
      if (lag <= flags_.max_lag_bytes) return true;
      if (Clock::now() - last_said > std::chrono::seconds(5)) {
        std::cout << fmt::format("replication lag {} bytes > {}: waiting\n", lag, flags_.max_lag_bytes);
        last_said = Clock::now();
      }
      if (!sleep_unless_stopped(std::chrono::seconds(1))) return false;
    }
    return false;
  }

  // One batch with retries on lock timeouts and deadlocks; the rows it walked
  // (0 at the end of the table), or nullopt on failure.
  std::optional<long long> run_batch() {
    const auto& plan = job_.plan;
    const bool first = last_key_.empty();
    for (int attempt = 1;; ++attempt) {
      Result r = db_.exec(first ? plan.first_batch_sql : plan.next_batch_sql, params(!first));
      if (ok(r)) {
        const long long rows = std::stoll(value(r, 0, 0));
        if (rows == 0) return 0;
        rows_done_ += rows;
        rows_updated_ += std::stoll(value(r, 0, 1));
        last_key_.clear();
        for (int c = 2; c < PQnfields(r.get()); ++c) last_key_.push_back(value(r, 0, c));
        return rows;
      }
      const std::string state = sqlstate(r);
      const bool retry = state == "55P03" || state == "40P01" || state == "40001";
      if (!retry) return batch_failed(r, first);
      if (attempt > flags_.max_retries) {
        fail(fmt::format("batch after key ({}) still blocked after {} retries: {}; nothing of it was written; "
                         "run the same command again once the lock is released",
                         describe_key(plan.key, last_key_), flags_.max_retries, message(r)));
        return std::nullopt;
      }
      const auto wait = std::chrono::milliseconds(std::min(5000, 100 << std::min(attempt, 6)));
      std::cout << fmt::format("{}: {} on the batch after key ({}): another transaction holds a lock; "
                               "retry {}/{} in {} ms\n",
                               plan.progress_name, state == "55P03" ? "lock timeout" : "conflict",
                               describe_key(plan.key, last_key_), attempt, flags_.max_retries, wait.count())
                << std::flush;
      if (!sleep_unless_stopped(wait)) return std::nullopt;
    }
  }

  // The batch was rolled back; find the row that fails, to say which one.
  std::optional<long long> batch_failed(const Result& r, bool first) {
    const auto& plan = job_.plan;
    std::string where;
    Result keys = db_.exec(rules::batch_keys_sql(plan, first), first ? std::vector<std::string>{} : last_key_);
    if (ok(keys)) {
      const std::string check = rules::row_check_sql(plan);
      for (int i = 0; i < PQntuples(keys.get()) && where.empty(); ++i) {
        std::vector<std::string> key;
        for (int c = 0; c < PQnfields(keys.get()); ++c) key.push_back(value(keys, i, c));
        Result row = db_.exec(check, key);
        if (!ok(row)) where = fmt::format("\n  on the row with key ({}): {}", describe_key(plan.key, key), message(row));
      }
    }
    fail(fmt::format("the {} failed: {}{}\n  that batch was rolled back (nothing of it was "
                     "written); {} rows before it are converted and recorded; fix the row or the up expression, "
                     "then run the same command to resume",
                     first ? std::string("first batch") : "batch after key (" + describe_key(plan.key, last_key_) + ")", message(r),
                     where,
                     rows_done_));
    return std::nullopt;
  }

  Outcome verify() {
    const auto& plan = job_.plan;
    Result r = db_.exec(plan.verify_sql);
    if (!ok(r)) {
      fail("verification failed: " + message(r));
      return Outcome::kFailed;
    }
    long long differ = 0;
    std::string detail;
    for (std::size_t i = 0; i < plan.target.copies.size(); ++i) {
      const long long n = std::stoll(value(r, 0, static_cast<int>(i)));
      differ += n;
      if (n > 0) detail += fmt::format(" {}: {} rows;", rules::display_identifier(plan.target.copies[i].to), n);
    }
    if (differ > 0) {
      fail(fmt::format("verification: {} rows where the new column IS DISTINCT FROM up(old):{} were they written "
                       "around pgshim, or does up(down(v)) differ from v? Run the same command again to convert them",
                       differ, detail));
      return Outcome::kFailed;
    }
    Result f = db_.exec(rules::kProgressFinish, {plan.target.migration, plan.progress_name});
    if (!ok(f)) std::cerr << plan.progress_name << ": cannot record the end of the run: " << message(f) << "\n";
    std::cout << fmt::format("{}: {} rows walked, {} changed; verified: 0 rows where new IS DISTINCT FROM up(old)\n",
                             plan.progress_name, rows_done_, rows_updated_);
    return Outcome::kDone;
  }

  bool fail(const std::string& text) {
    std::cerr << job_.plan.progress_name << ": " << text << "\n";
    return false;
  }

  Db& db_;
  const BackfillFlags& flags_;
  const Job& job_;
  std::vector<std::string> last_key_;
  long long rows_done_ = 0;
  long long rows_updated_ = 0;
};

void print_plan(const Job& job, Db& db) {
  const auto& plan = job.plan;
  std::cout << fmt::format("table {} (migration {})\n", plan.progress_name, plan.target.migration);
  for (const auto& copy : plan.target.copies) {
    std::cout << fmt::format("  set {} = ({})  -- from {}\n", rules::display_identifier(copy.to), copy.up,
                             rules::display_identifier(copy.from));
  }
  std::cout << fmt::format("  key: {} ({}{})\n", plan.key_list, plan.key.index_name,
                           plan.key.primary ? ", primary key" : ", unique NOT NULL");
  std::cout << fmt::format("  estimated rows: {}\n", job.estimate >= 0 ? std::to_string(job.estimate) : "unknown");
  Result exists = db.exec("SELECT to_regclass('pgshim_backfill_progress') IS NOT NULL");
  if (ok(exists) && value(exists, 0, 0) == "t") {
    Result r = db.exec(rules::kProgressSelect, {plan.target.migration, plan.progress_name});
    if (ok(r) && PQntuples(r.get()) > 0) {
      std::cout << fmt::format("  progress: last key {}, {} rows done{}\n", value(r, 0, 1), value(r, 0, 2),
                               is_null(r, 0, 4) ? "" : ", finished at " + value(r, 0, 4));
    }
  }
  std::cout << fmt::format("  batch of {} rows, one transaction each:\n{}\n  verification:\n{}\n\n", plan.batch_size,
                           plan.next_batch_sql, plan.verify_sql);
}

std::string resume_command(const BackfillFlags& f) {
  // Never echo a password back to the terminal or a log.
  const bool secret = f.dsn.find("password") != std::string::npos || f.dsn.find(':') != std::string::npos;
  std::string out = fmt::format("pgshim backfill --rules {} --dsn {}", f.rules_dir, secret ? "'<DSN>'" : "'" + f.dsn + "'");
  if (!f.migration.empty()) out += " --migration " + f.migration;
  if (!f.table.empty()) out += " --table " + f.table;
  return out;
}

// Loads the rules and picks the targets; nullopt means exit code 2.
std::optional<std::vector<rules::BackfillTarget>> select_targets(const BackfillFlags& f,
                                                                 std::vector<std::string>& migrations) {
  auto loaded = rules::load_rules_dir(f.rules_dir);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors()) std::cerr << rules::format_error(error) << "\n";
    return std::nullopt;
  }
  rules::TableName only;
  std::string error;
  if (!f.table.empty() && !rules::parse_table_name(f.table, only, error)) {
    std::cerr << "--table: " << error << "\n";
    return std::nullopt;
  }
  std::vector<rules::BackfillTarget> targets;
  bool found = f.migration.empty();
  for (const auto& m : loaded.rules().migrations) {
    if (!f.migration.empty() && m.name != f.migration) continue;
    found = true;
    if (m.phase != rules::Phase::kExpanded) {
      std::cout << fmt::format("migration {}: phase {}, skipped (backfill runs in phase expanded)\n", m.name,
                               rules::phase_name(m.phase));
      continue;
    }
    auto mine = rules::backfill_targets(m, f.table.empty() ? nullptr : &only);
    if (mine.empty()) std::cout << fmt::format("migration {}: no column to copy, skipped\n", m.name);
    else migrations.push_back(m.name);
    targets.insert(targets.end(), mine.begin(), mine.end());
  }
  if (!found) {
    std::cerr << "no migration named '" << f.migration << "' in " << f.rules_dir << "\n";
    return std::nullopt;
  }
  return targets;
}

int run_backfill(const BackfillFlags& f) {
  if (f.batch <= 0 || f.pause_ms < 0 || f.lock_timeout_ms <= 0 || f.max_retries < 0) {
    std::cerr << "--batch and --lock-timeout-ms must be positive, --pause-ms and --max-retries not negative\n";
    return 2;
  }
  std::vector<std::string> migrations;
  auto targets = select_targets(f, migrations);
  if (!targets) return 2;
  if (targets->empty()) {
    std::cout << "nothing to backfill\n";
    return 0;
  }
  Db db(f.dsn);
  if (!db.ok()) {
    std::cerr << "cannot connect: " << db.error();
    return 1;
  }
  for (const auto& set : {std::string("SET application_name = 'pgshim-backfill'"),
                          std::string("SET client_min_messages = warning"),
                          fmt::format("SET lock_timeout = {}", f.lock_timeout_ms)}) {
    Result r = db.exec(set);
    if (!ok(r)) {
      std::cerr << set << ": " << message(r) << "\n";
      return 1;
    }
  }
  // Every table is checked before any is touched: a missing key fails the run
  // with nothing done.
  std::vector<Job> jobs(targets->size());
  bool bad = false;
  for (std::size_t i = 0; i < targets->size(); ++i) {
    if (auto error = prepare_job(db, (*targets)[i], f.batch, jobs[i]); !error.empty()) {
      std::cerr << error << "\n";
      bad = true;
    }
  }
  if (bad) return 1;
  if (f.dry_run) {
    for (const auto& job : jobs) print_plan(job, db);
    std::cout << "dry run: nothing was changed\n";
    return 0;
  }
  Result ddl = db.exec(rules::kProgressTableDdl);
  if (!ok(ddl)) {
    std::cerr << "cannot create the progress table " << rules::kProgressTable << ": " << message(ddl) << "\n";
    return 1;
  }
  install_stop_handlers();
  for (const auto& job : jobs) {
    const Outcome outcome = TableRun(db, f, job).run();
    if (outcome == Outcome::kStopped) {
      std::cout << "stopped; to resume where it stopped, run:\n  " << resume_command(f) << "\n";
      return 1;
    }
    if (outcome == Outcome::kFailed) return 1;
  }
  std::cout << "backfill complete. Next step: switch each migration to backfilled:\n";
  for (const auto& name : migrations) {
    std::cout << fmt::format("  pgshim phase --rules {} --migration {} --set backfilled\n", f.rules_dir, name);
  }
  return 0;
}

}  // namespace

void add_backfill_command(CLI::App& app, std::function<int()>& run) {
  auto flags = std::make_shared<BackfillFlags>();
  auto* cmd = app.add_subcommand("backfill", "copy new = up(old) in key-ordered batches (phase expanded)");
  cmd->add_option("--rules", flags->rules_dir, "rules directory")->required();
  cmd->add_option("--dsn", flags->dsn, "libpq connection string of the database")->required();
  cmd->add_option("--migration", flags->migration, "only this migration");
  cmd->add_option("--table", flags->table, "only this table ([schema.]name)");
  cmd->add_option("--batch", flags->batch, "rows per batch (default 1000)");
  cmd->add_option("--pause-ms", flags->pause_ms, "pause between batches (default 0)");
  cmd->add_option("--max-lag-bytes", flags->max_lag_bytes, "wait while a replica lags more than this");
  cmd->add_option("--lock-timeout-ms", flags->lock_timeout_ms, "lock_timeout of a batch (default 2000)");
  cmd->add_option("--max-retries", flags->max_retries, "retries of a batch that hits a lock (default 30)");
  cmd->add_option("--progress-every-ms", flags->progress_every_ms, "progress line interval off a terminal");
  cmd->add_flag("--dry-run", flags->dry_run, "print the plan; change nothing");
  cmd->callback([flags, &run] { run = [flags] { return run_backfill(*flags); }; });
}

}  // namespace pgshim::proxy
