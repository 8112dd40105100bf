// Randomly mutated messages (fixed seeds) fed to every decoder. Properties: a
// decoder never reports kIncomplete for a whole body, a rejection always carries
// an error sentence, and an accepted body re-encodes to exactly the same bytes
// (the encoding is canonical, so nothing was skipped or misread). Buffers are
// exactly sized so that a sanitizer build catches any read past the end.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "proxy/codec/messages.h"
#include "tests/unit/proxy/codec/codec_test_util.h"

namespace pgshim::proxy::codec {
namespace {

using namespace std::literals;

constexpr int kIterations = 4000;

// One to three random edits: overwrite, insert, erase or truncate.
std::string mutate(std::string_view input, std::mt19937& rng) {
  std::string s(input);
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits; ++e) {
    const std::size_t pos = s.empty() ? 0 : rng() % s.size();
    // Small values (0, 1, 0xff) are the interesting ones in counts and lengths.
    const char byte = static_cast<char>(rng() % 2 ? rng() % 4 : rng() % 256);
    switch (rng() % 4) {
      case 0:
        if (!s.empty()) s[pos] = byte;
        break;
      case 1:
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), byte);
        break;
      case 2:
        if (!s.empty()) s.erase(pos, 1);
        break;
      default:
        s.resize(pos);
        break;
    }
  }
  return s;
}

template <typename M>
void fuzz_message(std::string_view valid_frame, unsigned seed) {
  std::mt19937 rng(seed);
  const std::string_view body = test::body_of(valid_frame);
  int accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    const std::string mutated = mutate(body, rng);
    const test::ExactBuffer buffer(mutated);
    M message;
    std::string error;
    const DecodeStatus status = M::decode(buffer.view(), message, error);
    ASSERT_NE(status, DecodeStatus::kIncomplete);
    if (status == DecodeStatus::kMalformed) {
      ASSERT_FALSE(error.empty());
      continue;
    }
    ++accepted;
    std::string out;
    message.encode(out);
    ASSERT_EQ(test::body_of(out), mutated) << "iteration " << i;
  }
  // Some mutants stay valid (a changed name byte); the round trip must see them.
  EXPECT_GT(accepted, 0);
}

TEST(Mutation, FrontendMessages) {
  std::string frame;
  Query{"SELECT * FROM users WHERE id = $1"}.encode(frame);
  fuzz_message<Query>(frame, 1);

  Parse parse{"s1", "SELECT $1, $2", {23, 25}};
  frame.clear();
  parse.encode(frame);
  fuzz_message<Parse>(frame, 2);

  Bind bind;
  bind.portal = "p";
  bind.statement = "s1";
  bind.param_formats = {0, 1};
  bind.params = {{false, "42"}, {true, ""}};
  bind.result_formats = {1};
  frame.clear();
  bind.encode(frame);
  fuzz_message<Bind>(frame, 3);

  frame.clear();
  Describe{'S', "s1"}.encode(frame);
  fuzz_message<Describe>(frame, 4);
  frame.clear();
  Close{'P', "p1"}.encode(frame);
  fuzz_message<Close>(frame, 5);
}

TEST(Mutation, BackendMessages) {
  RowDescription rd;
  rd.fields = {{"id", 16384, 1, 23, 4, -1, 0}, {"name", 16384, 2, 25, -1, -1, 0}};
  std::string frame;
  rd.encode(frame);
  fuzz_message<RowDescription>(frame, 6);

  frame.clear();
  ErrorResponse::make("ERROR", "42P01", "no such table").encode(frame);
  fuzz_message<ErrorResponse>(frame, 7);

  frame.clear();
  ReadyForQuery{'T'}.encode(frame);
  fuzz_message<ReadyForQuery>(frame, 8);
  frame.clear();
  BackendKeyData{1, 2}.encode(frame);
  fuzz_message<BackendKeyData>(frame, 9);
  frame.clear();
  ParameterStatus{"TimeZone", "UTC"}.encode(frame);
  fuzz_message<ParameterStatus>(frame, 10);

  AuthenticationSASL sasl;
  sasl.mechanisms = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
  frame.clear();
  sasl.encode(frame);
  fuzz_message<AuthenticationSASL>(frame, 11);
}

TEST(Mutation, AuthCode) {
  std::mt19937 rng(12);
  for (int i = 0; i < kIterations; ++i) {
    const test::ExactBuffer buffer(mutate("\x00\x00\x00\x05" "salt"sv, rng));
    AuthCode code{};
    std::string error;
    const DecodeStatus status = decode_auth_code(buffer.view(), code, error);
    ASSERT_NE(status, DecodeStatus::kIncomplete);
    if (status == DecodeStatus::kMalformed) {
      ASSERT_FALSE(error.empty());
    }
  }
}

TEST(Mutation, StartupPackets) {
  StartupPacket startup;
  startup.protocol = kProtocolVersion3;
  startup.params = {{"user", "alice"}, {"database", "shop"}};
  std::string valid;
  startup.encode(valid);
  std::mt19937 rng(13);
  for (int i = 0; i < kIterations; ++i) {
    // The length field is fixed up half the time so that the body gets exercised.
    std::string mutated = mutate(valid, rng);
    if (rng() % 2 && mutated.size() >= 4) {
      std::string length;
      append_u32(length, static_cast<std::uint32_t>(mutated.size()));
      mutated.replace(0, 4, length);
    }
    const test::ExactBuffer buffer(mutated);
    StartupPacket out;
    std::string error;
    const DecodeStatus status = decode_startup(buffer.view(), out, error);
    if (status == DecodeStatus::kMalformed) {
      ASSERT_FALSE(error.empty());
    }
    if (status != DecodeStatus::kOk) continue;
    std::string again;
    out.encode(again);
    ASSERT_EQ(again, mutated) << "iteration " << i;
  }
}

}  // namespace
}  // namespace pgshim::proxy::codec
