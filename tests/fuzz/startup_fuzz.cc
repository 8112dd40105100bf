// Fuzz target `startup`: the startup packet parser of proxy/codec (PostgreSQL
// documentation, "Message Formats": StartupMessage, SSLRequest, GSSENCRequest,
// CancelRequest) and what a session decides from an accepted StartupMessage:
// the `pgshim.version` option and the client's version in each migration
// (DESIGN.md section 2).
//
// The input is what a client sends before authentication: packets one after
// the other, read as a session reads them (the length first, then exactly that
// many bytes), until one is refused or the input ends; an SSLRequest or a
// GSSENCRequest may be followed by another packet.
// Properties beyond "no crash": a packet is kIncomplete at every shorter
// prefix and refused with any byte more; every refusal has an error sentence;
// an accepted packet re-encodes to exactly its bytes and a StartupMessage names
// a user; a valid `pgshim.version` option decides the version in every
// migration that applies.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/codec/messages.h"
#include "rules/client_profile.h"
#include "rules/loader.h"
#include "rules/version_match.h"
#include "tests/fuzz/fuzz_check.h"

namespace pgshim::fuzz {
namespace {

using proxy::codec::DecodeStatus;
using proxy::codec::StartupPacket;

// Migrations whose selectors exercise every startup parameter and glob form.
constexpr std::string_view kRules[] = {
    R"yaml(
migration: by_name
phase: expanded
versions:
  old: { application_name: "shop-v1*" }
  new: { application_name: "shop-v2*", user: "app_?" }
changes:
  - rename_column: { table: users, from: fullname, to: display_name }
)yaml",
    R"yaml(
migration: by_database
database: "shop*"
phase: planned
versions:
  new: { database: "*-v2-*", user: "*a*b*c*" }
  default: old
changes:
  - rename_table: { from: customer, to: customers }
)yaml",
    R"yaml(
migration: by_default
database: crm
phase: contracted
versions:
  default: new
changes:
  - rename_column: { table: accounts, from: fullname, to: name }
)yaml",
};

const rules::RuleSet& rule_set() {
  static const rules::RuleSet set = [] {
    rules::RuleSet rules;
    for (std::string_view text : kRules) {
      const rules::LoadResult loaded = rules::load_rule_text(text, "startup_fuzz.yaml");
      if (!loaded.ok()) fail("the fixed rules do not load", rules::format_error(loaded.errors().front()));
      rules.migrations.push_back(loaded.rules().migrations.front());
    }
    return rules;
  }();
  return set;
}

// What a session does with an accepted StartupMessage (proxy/session.cc).
void decide_versions(const StartupPacket& packet) {
  const std::string_view user = packet.param("user");
  const std::string_view database = packet.param("database").empty() ? user : packet.param("database");
  std::optional<rules::ClientVersion> version;
  std::string error;
  if (!rules::parse_version_option(packet.param("options"), version, error)) {
    require(!error.empty(), "an invalid pgshim.version option without a sentence");
    return;  // the session answers 22023
  }
  const rules::StartupParams params{std::string(packet.param("application_name")), std::string(user),
                                    std::string(database), version};
  const rules::ClientProfile profile = rules::profile_for(rule_set(), params);
  if (version) {
    const std::uint64_t expected = *version == rules::ClientVersion::kNew ? profile.active : 0;
    require(profile.speaks_new == expected, "the pgshim.version option does not decide the version");
  }
}

void check_accepted(std::string_view packet, const StartupPacket& decoded) {
  std::string encoded;
  decoded.encode(encoded);
  require(encoded == packet, "an accepted startup packet does not re-encode to itself");
  if (decoded.kind == StartupPacket::Kind::kStartup) {
    require(!decoded.param("user").empty(), "a StartupMessage accepted without a user");
    decide_versions(decoded);
  }
}

// A packet is decided only once all of it is there, and never with extra bytes.
void check_bounds(std::string_view packet) {
  StartupPacket p;
  std::string error;
  for (std::size_t n = 0; n < packet.size(); ++n) {
    require(proxy::codec::decode_startup(packet.substr(0, n), p, error) == DecodeStatus::kIncomplete,
            "a prefix of a startup packet is not kIncomplete");
  }
  const ExactCopy longer(std::string(packet) + '\0');
  require(proxy::codec::decode_startup(longer.view(), p, error) == DecodeStatus::kMalformed,
          "a startup packet with a byte more is not refused");
}

// Reads one packet from the front of `input` as a session does; false when the
// session would stop reading (refused, incomplete, or authentication follows).
bool read_packet(std::string_view& input) {
  std::uint32_t length = 0;
  std::string error;
  const DecodeStatus length_status = proxy::codec::decode_startup_length(input, length, error);
  if (length_status == DecodeStatus::kMalformed) require(!error.empty(), "a refused length without a sentence");
  if (length_status != DecodeStatus::kOk || input.size() < length) return false;
  const ExactCopy packet(input.substr(0, length));
  input.remove_prefix(length);
  check_bounds(packet.view());
  StartupPacket decoded;
  const DecodeStatus status = proxy::codec::decode_startup(packet.view(), decoded, error);
  require(status != DecodeStatus::kIncomplete, "a whole startup packet is kIncomplete");
  if (status == DecodeStatus::kMalformed) {
    require(!error.empty(), "a refused startup packet without a sentence");
    return false;
  }
  check_accepted(packet.view(), decoded);
  return decoded.kind == StartupPacket::Kind::kSslRequest || decoded.kind == StartupPacket::Kind::kGssEncRequest;
}

}  // namespace
}  // namespace pgshim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pgshim::fuzz;
  std::string_view input = as_text(data, size);
  while (read_packet(input)) {
  }
  return 0;
}
