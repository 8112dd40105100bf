// Helpers shared by the rule loader tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "rules/loader.h"

namespace pgshim::rules {

// So gtest prints a LoadError readably.
inline void PrintTo(const LoadError& error, std::ostream* os) { *os << format_error(error); }

}  // namespace pgshim::rules

namespace pgshim::rules::testing {

inline constexpr const char* kFile = "m.yaml";

// tests/data/rules in the source tree.
inline std::filesystem::path data_dir() {
  return std::filesystem::path(PGSHIM_SOURCE_DIR) / "tests" / "data" / "rules";
}

// The errors of loading `text` as file m.yaml (none if it loads).
inline std::vector<LoadError> errors_of(std::string_view text) {
  const LoadResult result = load_rule_text(text, kFile);
  return result.ok() ? std::vector<LoadError>{} : result.errors();
}

// Loads `text` and expects exactly one error, at line:column, with this message.
inline void expect_error(std::string_view text, int line, int column, std::string_view message) {
  const std::vector<LoadError> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u) << [&] {
    std::string all;
    for (const LoadError& e : errors) all += format_error(e) + "\n";
    return all;
  }();
  EXPECT_EQ(errors[0], (LoadError{kFile, line, column, std::string(message)}))
      << format_error(errors[0]);
}

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "pgshim-rules-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view text) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace pgshim::rules::testing
