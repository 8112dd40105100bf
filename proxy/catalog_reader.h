// Reads the schema cache from a live database with libpq, for the command line
// (`pgshim check --dsn`, `pgshim rewrite --schema-from`). The proxy itself reads
// the catalog on a session's own server connection instead.
#pragma once

#include <optional>
#include <string>

#include "rules/schema_cache.h"

namespace pgshim::proxy {

[[nodiscard]] std::optional<rules::StaticSchemaCache> read_schema(const std::string& dsn, std::string& error);

}  // namespace pgshim::proxy
