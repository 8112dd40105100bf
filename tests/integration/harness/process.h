// Child processes for integration tests: started with fork/exec, optionally as
// another user (PostgreSQL refuses to run as root), stopped by their PID.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::testing {

struct RunAs {
  bool drop_root = false;  // when running as root, become `user`
  std::string user = "postgres";
};

// Starts `argv` with stdout and stderr appended to `log_file`. Returns the PID.
// The child gets `parent_death_signal` when the calling thread ends, so nothing a
// test started outlives it; spawn from a thread that lives as long as the child
// (the main thread, or one that waits for it).
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_file, const RunAs& as = {},
            int parent_death_signal = SIGTERM);

// Runs `argv` to completion; returns its exit status (or -1 when it did not exit).
int run(const std::vector<std::string>& argv, const std::string& log_file, const RunAs& as = {});

// Like run(), but a child still running after `timeout` is killed (SIGKILL) and -1 returned.
int run_for(const std::vector<std::string>& argv, const std::string& log_file,
            std::chrono::milliseconds timeout);

// Sends `signal` and waits up to `timeout` for the process to exit, then SIGKILLs it.
// Returns the wait status.
int stop_process(pid_t pid, int signal, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Waits until a TCP connect to 127.0.0.1:port succeeds.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

// Resident set size and its high-water mark of a process, in KiB (from /proc).
struct Memory {
  long rss_kib = 0;
  long hwm_kib = 0;
};
Memory process_memory(pid_t pid);

// Open file descriptors of a process (from /proc/PID/fd).
int open_fds(pid_t pid);

std::string read_file(const std::string& path);

// How many times `needle` occurs in `text`.
std::size_t count_occurrences(std::string_view text, std::string_view needle);
// The last `n` characters of `text`, for failure messages.
std::string tail(const std::string& text, std::size_t n = 6000);

}  // namespace pgshim::testing
