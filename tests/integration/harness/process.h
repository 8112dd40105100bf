// Child processes for integration tests: started with fork/exec, optionally as
// another user (PostgreSQL refuses to run as root), stopped by their PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace pgshim::testing {

struct RunAs {
  bool drop_root = false;  // when running as root, become `user`
  std::string user = "postgres";
};

// Starts `argv` with stdout and stderr appended to `log_file`. Returns the PID.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_file, const RunAs& as = {});

// Runs `argv` to completion; returns its exit status (or -1 when it did not exit).
int run(const std::vector<std::string>& argv, const std::string& log_file, const RunAs& as = {});

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

}  // namespace pgshim::testing
