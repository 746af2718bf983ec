#pragma once
/// The `outbox` subsystem (SPEC §1.1, §7.2–§7.4): the email dispatcher and the
/// hourly invite/notification maintenance. Every OUTBOX_POLL_INTERVAL_MS (or
/// when woken after an invite was sent) it claims due rows one at a time under
/// a 60 s lease, hands each to the mailer's detached worker, and commits
/// `sent`, a retry with backoff, or `failed`. At shutdown it stops claiming and
/// gives back the leases it still holds.

#include <caf/all.hpp>

#include <cstdint>
#include <string>

#include "actors/runtime.hpp"

namespace petcare::actors {

/// Registry name of the dispatcher; `(ping)` to it means "rows may be due now".
constexpr caf::atom_value outbox_name = caf::atom("outbox");

struct outbox_state {
  runtime_ptr rt;
  caf::actor mailer;
  bool busy = false;     ///< a claim, send or commit is in flight
  bool again = false;    ///< woken while busy: poll once more afterwards
  bool stopping = false; ///< shutdown seen: claim nothing more
  bool released = false;
  static inline const char* name = "outbox";
};

/// Protocol: `(tick)` poll timer; `(ping)` wake-up; `(tick, "maintenance")`
/// hourly job; `(tick, "watch")` shutdown watch; `(heartbeat)` → true.
caf::behavior outbox_dispatcher(caf::stateful_actor<outbox_state>* self, runtime_ptr rt);

/// What to do with a message after an attempt.
enum class delivery_step { sent, retry, failed };

/// ok ⇒ sent; permanent or `attempts` ≥ `max_attempts` ⇒ failed; else retry.
delivery_step next_step(bool ok, bool permanent, int attempts, int64_t max_attempts);

/// `min(base × 2^(attempts−1), max)` scaled by `0.8 + 0.4 × unit` (±20 %
/// jitter; `unit` in [0, 1)).
int64_t retry_delay_ms(int attempts, int64_t base_ms, int64_t max_ms, double unit);

} // namespace petcare::actors
