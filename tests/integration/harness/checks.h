// Checks shared by the fault-injection tests: that a proxy still serves new
// clients, and that what a fault left behind (backends, descriptors) has gone.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/proxy_process.h"

namespace pgshim::testing {

// Asserts (gtest) that a new client connects through `proxy` and runs a query:
// the check every fault test ends with.
void expect_serves_new_client(const ProxyProcess& proxy);

// Client backends of `pg` other than the one asking, of `application_name` when
// it is not empty.
int client_backends(const PgServer& pg, std::string_view application_name = "");

// Waits until client_backends(pg, application_name) == expected; returns the last count.
int wait_for_client_backends(const PgServer& pg, int expected, std::chrono::milliseconds timeout,
                             std::string_view application_name = "");

// Waits until process `pid` has `expected` open descriptors; returns the last count.
int wait_for_open_fds(pid_t pid, int expected, std::chrono::milliseconds timeout);
// The open descriptors of `pid` once the count has held still for half a second
// (a proxy just started still holds the harness's probe connection for a moment).
int settled_open_fds(pid_t pid);

// Raises this process's descriptor limit to its hard limit; returns the new soft limit.
long raise_descriptor_limit();

// The first flight of a TLS 1.2+ client handshake (a ClientHello), made with
// OpenSSL in memory, for tests that stop a handshake half way.
std::string tls_client_hello();

}  // namespace pgshim::testing
