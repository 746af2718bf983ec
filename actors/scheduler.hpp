#pragma once
/// Background jobs of SPEC §7 on every instance; cross-instance safety comes
/// from advisory locks and conditional updates inside the jobs.

#include <caf/all.hpp>

#include "actors/runtime.hpp"

namespace petcare::actors {

struct scheduler_state {
  int64_t runs = 0;
  static inline const char* name = "scheduler";
};

/// Runs the temporary-access sweep every EXPIRY_SWEEP_INTERVAL_MS.
caf::behavior scheduler(caf::stateful_actor<scheduler_state>* self, runtime_ptr rt);

} // namespace petcare::actors
