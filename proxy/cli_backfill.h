// `pgshim backfill` (DESIGN.md section 5, issue 5): copies `new = up(old)` for
// every row of the tables whose migration is in phase expanded, in key order,
// one short locking transaction per batch, resumable, throttled, with progress
// and a final verification. The SQL comes from rules/backfill_plan.h; this is
// the libpq shell around it.
//
//   pgshim backfill --rules DIR --dsn DSN [--migration NAME] [--table T] [--batch N]
//                   [--pause-ms N] [--max-lag-bytes N] [--lock-timeout-ms N]
//                   [--max-retries N] [--progress-every-ms N] [--dry-run]
//
// Exit codes: 0 every table converted and verified (or nothing to do, or a dry
// run); 1 a runtime failure, a verification that found rows out of sync, or a
// run stopped by SIGINT/SIGTERM (it prints how to resume); 2 bad usage or
// invalid rules.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace pgshim::proxy {

// Registers the subcommand on `app`; it sets `run` when it is the one parsed.
void add_backfill_command(CLI::App& app, std::function<int()>& run);

}  // namespace pgshim::proxy
