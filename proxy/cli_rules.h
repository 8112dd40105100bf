// The rule-file subcommands of the pgshim binary (DESIGN.md section 5):
//   pgshim check   --rules DIR [--dsn DSN]
//   pgshim rewrite --rules DIR --as old|new [--phase P] [--schema-from DSN] "SQL"
//   pgshim phase   --rules DIR --migration NAME --set PHASE
// Exit codes: 0 success, 1 runtime failure, 2 bad usage, invalid rules, or a
// statement the rewriter refuses.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace pgshim::proxy {

// Registers the subcommands on `app`; each sets `run` when it is the one parsed.
void add_rule_commands(CLI::App& app, std::function<int()>& run);

}  // namespace pgshim::proxy
