#pragma once
/// Process CPU and memory sampling for /health/live and /metrics (SPEC §5).

#include <caf/all.hpp>

#include <cstdint>

namespace petcare::actors {

struct telemetry_state {
  static inline const char* name = "telemetry";
};

/// Samples every second; keeps the last 10 s of CPU use.
caf::behavior telemetry(caf::stateful_actor<telemetry_state>* self);

/// Latest samples, readable from any thread.
int cpu_percent();      ///< process CPU over the last 10 s ÷ (10 s × CPUs), capped at 100
int memory_percent();   ///< RSS ÷ cgroup limit (else host memory), capped at 100
int64_t resident_bytes();
double cpu_seconds();
int64_t process_start_unix();

} // namespace petcare::actors
