// A small RAII layer over libpq for tests.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::testing {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};

class Result {
 public:
  explicit Result(PGresult* r) : result_(r) {}
  [[nodiscard]] ExecStatusType status() const { return PQresultStatus(result_.get()); }
  [[nodiscard]] bool ok() const {
    return status() == PGRES_COMMAND_OK || status() == PGRES_TUPLES_OK;
  }
  [[nodiscard]] int rows() const { return PQntuples(result_.get()); }
  [[nodiscard]] int columns() const { return PQnfields(result_.get()); }
  [[nodiscard]] std::string column_name(int c) const { return PQfname(result_.get(), c); }
  [[nodiscard]] unsigned column_type(int c) const { return PQftype(result_.get(), c); }
  [[nodiscard]] bool is_null(int r, int c) const { return PQgetisnull(result_.get(), r, c) != 0; }
  [[nodiscard]] std::string value(int r = 0, int c = 0) const {
    return std::string(PQgetvalue(result_.get(), r, c), PQgetlength(result_.get(), r, c));
  }
  [[nodiscard]] std::string command_tuples() const { return PQcmdTuples(result_.get()); }
  [[nodiscard]] std::string command_status() const { return PQcmdStatus(result_.get()); }
  [[nodiscard]] std::string error() const { return PQresultErrorMessage(result_.get()); }
  [[nodiscard]] std::string sqlstate() const {
    const char* s = PQresultErrorField(result_.get(), PG_DIAG_SQLSTATE);
    return s == nullptr ? "" : s;
  }
  [[nodiscard]] PGresult* get() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

class Conn {
 public:
  // Connects; check ok() / error() afterwards (a failed connection is a valid object).
  explicit Conn(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~Conn() {
    if (conn_ != nullptr) PQfinish(conn_);
  }
  Conn(Conn&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  [[nodiscard]] bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  [[nodiscard]] std::string error() const { return PQerrorMessage(conn_); }
  [[nodiscard]] PGconn* get() const { return conn_; }

  Result exec(std::string_view sql) { return Result(PQexec(conn_, std::string(sql).c_str())); }

  // Extended protocol with text parameters.
  Result exec_params(std::string_view sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return Result(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()),
                               nullptr, values.data(), nullptr, nullptr, 0));
  }

  // Runs SQL that must succeed and returns the first value of the first row.
  std::string scalar(std::string_view sql) {
    Result r = exec(sql);
    if (!r.ok()) throw std::runtime_error(std::string(sql) + ": " + r.error());
    return r.rows() > 0 ? r.value(0, 0) : std::string();
  }

 private:
  PGconn* conn_;
};

}  // namespace pgshim::testing
