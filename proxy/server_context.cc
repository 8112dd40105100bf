#include "proxy/server_context.h"

namespace pgshim::proxy {

void CancelRegistry::add(std::uint32_t pid, std::uint32_t key) {
  std::lock_guard lock(mutex_);
  keys_.insert(join(pid, key));
}

void CancelRegistry::remove(std::uint32_t pid, std::uint32_t key) {
  std::lock_guard lock(mutex_);
  keys_.erase(join(pid, key));
}

bool CancelRegistry::contains(std::uint32_t pid, std::uint32_t key) const {
  std::lock_guard lock(mutex_);
  return keys_.contains(join(pid, key));
}

}  // namespace pgshim::proxy
