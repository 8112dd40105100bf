// Writes the binary seeds of the `frames` and `startup` fuzz targets: the
// messages a libpq client and a PostgreSQL 15 server exchange in a session
// (startup, SCRAM and MD5 authentication, simple and extended queries, COPY,
// errors and notices), encoded by proxy/codec as they appear on the wire.
//   fuzz_make_seeds write CORPUS_DIR   writes CORPUS_DIR/frames/* and CORPUS_DIR/startup/*
//   fuzz_make_seeds check CORPUS_DIR   fails unless those files hold exactly that
// The fuzz.seeds test runs `check` on tests/fuzz/corpus, so the checked-in seeds
// stay what this program makes.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/codec/frame.h"
#include "proxy/codec/messages.h"

namespace pgshim::fuzz {
namespace {

namespace codec = proxy::codec;

// Mode bytes of frames_fuzz.cc.
constexpr char kFrontendStream = 0;
constexpr char kBackendStream = 1;
constexpr char kTinyLimit = 2;
constexpr char kBody = 4;

void append_string(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}

// A message without a typed encoder: `type`, then the body `fill` appends.
template <class Fill>
std::string message(char type, Fill fill) {
  std::string out;
  const std::size_t start = codec::begin_message(out, type);
  fill(out);
  codec::finish_message(out, start);
  return out;
}

std::string empty_message(char type) {
  return message(type, [](std::string&) {});
}

std::string authentication(codec::AuthCode code, std::string_view data = {}) {
  return message('R', [&](std::string& out) {
    codec::append_u32(out, static_cast<std::uint32_t>(code));
    out.append(data);
  });
}

std::string execute(std::string_view portal, std::uint32_t max_rows) {
  return message('E', [&](std::string& out) {
    append_string(out, portal);
    codec::append_u32(out, max_rows);
  });
}

std::string data_row(const std::vector<const char*>& values) {
  return message('D', [&](std::string& out) {
    codec::append_u16(out, static_cast<std::uint16_t>(values.size()));
    for (const char* value : values) {
      if (value == nullptr) {
        codec::append_u32(out, 0xffffffffu);
      } else {
        codec::append_u32(out, static_cast<std::uint32_t>(std::string_view(value).size()));
        out.append(value);
      }
    }
  });
}

std::string command_complete(std::string_view tag) {
  return message('C', [&](std::string& out) { append_string(out, tag); });
}

std::string parameter_description(const std::vector<std::uint32_t>& oids) {
  return message('t', [&](std::string& out) {
    codec::append_u16(out, static_cast<std::uint16_t>(oids.size()));
    for (std::uint32_t oid : oids) codec::append_u32(out, oid);
  });
}

std::string copy_response(char type, std::uint16_t columns) {
  return message(type, [&](std::string& out) {
    out.push_back('\0');  // text format
    codec::append_u16(out, columns);
    for (std::uint16_t i = 0; i < columns; ++i) codec::append_u16(out, 0);
  });
}

std::string bytes_message(char type, std::string_view body) {
  return message(type, [&](std::string& out) { out.append(body); });
}

template <class Message>
std::string encoded(const Message& m) {
  std::string out;
  m.encode(out);
  return out;
}

std::string ready(char status) { return encoded(codec::ReadyForQuery{status}); }

codec::RowDescription users_row_description() {
  codec::RowDescription rd;
  rd.fields.push_back({"id", 16384, 1, 23, 4, -1, 0});
  rd.fields.push_back({"fullname", 16384, 2, 25, -1, -1, 0});
  rd.fields.push_back({"price", 16390, 3, 1700, -1, 786438, 1});
  return rd;
}

codec::ErrorResponse server_error() {
  codec::ErrorResponse e;
  e.fields = {{'S', "ERROR"},         {'V', "ERROR"}, {'C', "42703"},
              {'M', "column \"fullname\" does not exist"}, {'H', "Perhaps you meant to reference the column \"users.display_name\"."},
              {'P', "8"},             {'F', "parse_relation.c"}, {'L', "3655"}, {'R', "errorMissingColumn"}};
  return e;
}

// A seed of the body mode of frames_fuzz.cc: the mode byte, the frame's type
// byte and its body (the frame without its length).
std::string body_seed(char direction, const std::string& frame) {
  return std::string(1, static_cast<char>(direction | kBody)) + frame[0] + frame.substr(codec::kHeaderSize);
}

using Seeds = std::vector<std::pair<std::string, std::string>>;

Seeds frontend_seeds() {
  const codec::Query query{"SELECT id, fullname FROM users WHERE id = 1; SELECT 1"};
  const std::string simple = encoded(query) + empty_message('X');
  codec::Parse parse{"s1", "SELECT * FROM users WHERE id = $1 AND fullname = $2", {23, 0}};
  codec::Bind bind{"", "s1", {0, 1}, {{false, "42"}, {true, {}}}, {1}};
  const std::string extended = encoded(parse) + encoded(bind) + encoded(codec::Describe{'P', ""}) +
                               execute("", 0) + empty_message('S');
  const std::string pipelined = encoded(codec::Parse{"", "INSERT INTO orders (price) VALUES ($1)", {}}) +
                                encoded(codec::Bind{"p1", "", {}, {{false, "9.99"}}, {}}) +
                                execute("p1", 10) + empty_message('H') + encoded(codec::Close{'P', "p1"}) +
                                encoded(codec::Close{'S', "s1"}) + encoded(codec::Describe{'S', "s1"}) +
                                empty_message('S');
  const std::string copy = encoded(codec::Query{"COPY users (id, fullname) FROM STDIN"}) +
                           bytes_message('d', "1\tAnn\n2\tBob\n") + empty_message('c') +
                           encoded(codec::Query{"COPY orders FROM STDIN"}) + bytes_message('d', "3\t") +
                           bytes_message('f', std::string("client gave up") + '\0');
  const std::string client_first = "n,,n=,r=rOprNGfwEbeRWgbNEkqO%hvY";
  std::string sasl_initial = std::string("SCRAM-SHA-256") + '\0';
  codec::append_u32(sasl_initial, static_cast<std::uint32_t>(client_first.size()));
  const std::string scram = bytes_message('p', sasl_initial + client_first);
  return {
      {"frontend_simple_query", kFrontendStream + simple},
      {"frontend_extended_query", kFrontendStream + extended},
      {"frontend_pipeline", kFrontendStream + pipelined},
      {"frontend_copy_in", kFrontendStream + copy},
      {"frontend_sasl_initial", kFrontendStream + scram},
      {"frontend_tiny_limit", std::string(1, kFrontendStream | kTinyLimit) + simple},
      {"body_query", body_seed(kFrontendStream, encoded(query))},
      {"body_parse", body_seed(kFrontendStream, encoded(parse))},
      {"body_bind", body_seed(kFrontendStream, encoded(bind))},
      {"body_describe", body_seed(kFrontendStream, encoded(codec::Describe{'S', "s1"}))},
      {"body_close", body_seed(kFrontendStream, encoded(codec::Close{'P', "p1"}))},
  };
}

Seeds backend_seeds() {
  const std::string key = encoded(codec::BackendKeyData{4242, 0x5eed1234});
  const std::string params = encoded(codec::ParameterStatus{"server_version", "15.8"}) +
                             encoded(codec::ParameterStatus{"client_encoding", "UTF8"}) +
                             encoded(codec::ParameterStatus{"application_name", "shop-v1"});
  const codec::AuthenticationSASL sasl{{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}};
  const std::string scram = encoded(sasl) +
                            authentication(codec::AuthCode::kSaslContinue,
                                           "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") +
                            authentication(codec::AuthCode::kSaslFinal, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") +
                            authentication(codec::AuthCode::kOk) + params + key + ready('I');
  const std::string md5 = authentication(codec::AuthCode::kMd5Password, "\x93\x1c\x7f\x02") +
                          authentication(codec::AuthCode::kOk) + params + key + ready('I');
  const std::string query = encoded(users_row_description()) + data_row({"1", "Ann", "9.99"}) +
                            data_row({"2", nullptr, "0.50"}) + command_complete("SELECT 2") + ready('T');
  codec::ErrorResponse notice = server_error();
  notice.fields = {{'S', "NOTICE"}, {'V', "NOTICE"}, {'C', "00000"}, {'M', "relation \"users\" already exists, skipping"}};
  std::string notice_frame;
  notice.encode(notice_frame, 'N');
  const std::string error = notice_frame + encoded(server_error()) + ready('E');
  const std::string extended = bytes_message('1', "") + parameter_description({23, 25}) +
                               encoded(users_row_description()) + bytes_message('2', "") +
                               data_row({"1", "Ann", "9.99"}) + bytes_message('s', "") + empty_message('n') +
                               empty_message('3') + command_complete("INSERT 0 1") + empty_message('I') +
                               ready('I');
  const std::string copy = copy_response('G', 2) + copy_response('H', 1) + bytes_message('d', "1\tAnn\n") +
                           empty_message('c') + command_complete("COPY 1") +
                           message('A', [](std::string& out) {
                             codec::append_u32(out, 4242);
                             append_string(out, "orders_changed");
                             append_string(out, "42");
                           }) +
                           ready('I');
  return {
      {"backend_scram_startup", kBackendStream + scram},
      {"backend_md5_startup", kBackendStream + md5},
      {"backend_query_result", kBackendStream + query},
      {"backend_error_notice", kBackendStream + error},
      {"backend_extended_query", kBackendStream + extended},
      {"backend_copy_notify", kBackendStream + copy},
      {"backend_tiny_limit", std::string(1, kBackendStream | kTinyLimit) + query},
      {"body_row_description", body_seed(kBackendStream, encoded(users_row_description()))},
      {"body_error_response", body_seed(kBackendStream, encoded(server_error()))},
      {"body_notice_response", body_seed(kBackendStream, notice_frame)},
      {"body_ready_for_query", body_seed(kBackendStream, ready('T'))},
      {"body_backend_key_data", body_seed(kBackendStream, key)},
      {"body_parameter_status", body_seed(kBackendStream, encoded(codec::ParameterStatus{"TimeZone", "Etc/UTC"}))},
      {"body_authentication_sasl", body_seed(kBackendStream, encoded(sasl))},
      {"body_authentication_md5", body_seed(kBackendStream, authentication(codec::AuthCode::kMd5Password, "salt"))},
  };
}

std::string startup(std::vector<std::pair<std::string_view, std::string_view>> params,
                    std::uint32_t protocol = codec::kProtocolVersion3) {
  codec::StartupPacket p;
  p.protocol = protocol;
  p.params = std::move(params);
  return encoded(p);
}

std::string request(codec::StartupPacket::Kind kind) {
  codec::StartupPacket p;
  p.kind = kind;
  p.process_id = 4242;
  p.secret_key = 0x5eed1234;
  return encoded(p);
}

Seeds startup_seeds() {
  using Kind = codec::StartupPacket::Kind;
  const std::string libpq = startup({{"user", "app_1"},
                                     {"database", "shop"},
                                     {"application_name", "shop-v2.1"},
                                     {"client_encoding", "UTF8"},
                                     {"options", "-c pgshim.version=new -c search_path=shop,public"}});
  return {
      {"startup_libpq", libpq},
      {"startup_user_only", startup({{"user", "postgres"}})},
      {"startup_old_selector", startup({{"user", "app_a_b_c"}, {"database", "shop-v2-eu"},
                                        {"application_name", "shop-v1.9"}})},
      {"startup_options_escaped", startup({{"user", "app_2"}, {"options", "--pgshim.version=OLD -c\\ x=a\\\\b -d 1"}})},
      {"startup_version_option_invalid", startup({{"user", "app_2"}, {"options", "-c pgshim.version=newest"}})},
      {"startup_minor_version", startup({{"user", "app_1"}, {"database", "crm"}}, (3u << 16) | 2u)},
      {"ssl_request_then_startup", request(Kind::kSslRequest) + libpq},
      {"gssenc_request_then_startup", request(Kind::kGssEncRequest) + request(Kind::kSslRequest) + libpq},
      {"cancel_request", request(Kind::kCancelRequest)},
  };
}

bool same_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  const std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return in && have == bytes;
}

int run(bool write, const std::filesystem::path& corpus) {
  const std::pair<const char*, Seeds> sets[] = {
      {"frames", frontend_seeds()}, {"frames", backend_seeds()}, {"startup", startup_seeds()}};
  int stale = 0;
  for (const auto& [target, seeds] : sets) {
    for (const auto& [name, bytes] : seeds) {
      const std::filesystem::path path = corpus / target / name;
      if (write) {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << bytes;
      } else if (!same_file(path, bytes)) {
        std::fprintf(stderr, "%s: missing or stale; run fuzz_make_seeds write %s\n", path.c_str(), corpus.c_str());
        ++stale;
      }
    }
  }
  return stale == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pgshim::fuzz

int main(int argc, char** argv) {
  const std::string_view mode = argc == 3 ? argv[1] : "";
  if (mode != "write" && mode != "check") {
    std::fprintf(stderr, "usage: fuzz_make_seeds write|check CORPUS_DIR\n");
    return 2;
  }
  return pgshim::fuzz::run(mode == "write", argv[2]);
}
