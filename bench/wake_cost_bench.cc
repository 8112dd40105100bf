// What one loopback TCP send costs the sender's CPU when it wakes a sleeping
// reader on the sender's own CPU, and on another one. A proxy makes two such
// sends per query (to the server, to the client), so this is most of its CPU
// per query in bench/pgbench_compare.sh, and the same for any proxy: on the
// nested virtual machine of bench/README.md ("Tenth session"), waking a reader
// on another CPU cost about three times what waking it on the sender's CPU did.
//
//   cmake -S . -B build-wake -G Ninja && cmake --build build-wake --target wake_cost_bench
//   ./build-wake/bench/wake_cost_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Compare the CPU column (the sending thread's CPU time per send). Needs two CPUs.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <thread>

#include <benchmark/benchmark.h>

namespace {

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

// A connected loopback TCP pair whose far end a thread, pinned to one CPU,
// reads until the sender shuts it down: it sleeps between sends.
class PinnedReader {
 public:
  explicit PinnedReader(int cpu) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::abort();
    }
    sender_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(sender_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();
    receiver_ = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    const int on = 1;
    ::setsockopt(sender_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    reader_ = std::thread([this, cpu] {
      if (!pin_to(cpu)) std::abort();
      std::array<char, 65536> buffer;
      while (::recv(receiver_, buffer.data(), buffer.size(), 0) > 0) {
      }
    });
  }
  ~PinnedReader() {
    ::shutdown(sender_, SHUT_RDWR);
    reader_.join();
    ::close(sender_);
    ::close(receiver_);
  }
  PinnedReader(const PinnedReader&) = delete;
  PinnedReader& operator=(const PinnedReader&) = delete;
  [[nodiscard]] int fd() const { return sender_; }

 private:
  int sender_ = -1;
  int receiver_ = -1;
  std::thread reader_;
};

// A forwarded query's size, about.
constexpr std::array<char, 100> kMessage{};

// Arg 0: the reader on the sender's CPU; arg 1: on the other CPU.
void BM_SendWakingReader(benchmark::State& state) {
  if (std::thread::hardware_concurrency() < 2) {
    state.SkipWithError("needs two CPUs");
    return;
  }
  if (!pin_to(0)) {
    state.SkipWithError("cannot pin to CPU 0");
    return;
  }
  PinnedReader reader(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(::send(reader.fd(), kMessage.data(), kMessage.size(), MSG_NOSIGNAL));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "reader on the sender's CPU" : "reader on another CPU");
}

BENCHMARK(BM_SendWakingReader)->Arg(0)->Arg(1);

}  // namespace
