// The pieces of one forwarded write as the kernel's gather list, shared by the
// direct send (Stream::send_now) and the batched one (SendBatch).
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <span>

#include <boost/asio/buffer.hpp>

namespace pgshim::proxy {

// More pieces than this in one send go out with the remainder.
inline constexpr std::size_t kMaxSendPieces = 16;
using SendPieces = std::array<iovec, kMaxSendPieces>;

// Fills `out` with the non-empty pieces, as many as fit; returns how many.
inline std::size_t gather_pieces(std::span<const boost::asio::const_buffer> pieces, SendPieces& out) {
  std::size_t count = 0;
  for (const auto& piece : pieces) {
    if (count == out.size()) break;
    if (piece.size() == 0) continue;
    out[count++] = iovec{const_cast<void*>(piece.data()), piece.size()};
  }
  return count;
}

}  // namespace pgshim::proxy
