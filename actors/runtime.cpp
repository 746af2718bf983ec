#include "actors/runtime.hpp"

#include <chrono>

namespace petcare::actors {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace petcare::actors
