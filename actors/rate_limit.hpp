#pragma once
/// Sliding-window rate limits (SPEC §3.9): exact and shared through Redis; per
/// instance in memory while Redis is down (degraded mode, SPEC §5).

#include <caf/all.hpp>

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors/runtime.hpp"

namespace petcare::actors {

struct limit_spec {
  std::string name; ///< metric label, e.g. "global"
  int64_t max = 0;
  int64_t window_ms = 0;
};

struct rate_outcome {
  bool allowed = true;
  int64_t limit = 0;
  int64_t remaining = 0;
  int64_t reset_s = 0;  ///< seconds until a slot frees (≥ 1 when rejected)
  std::string member;   ///< the reserved entry, for `rate_release` / `rate_commit`
  bool wait = false;    ///< full only because of reservations still in flight
};

/// Per-instance sliding windows for degraded mode.
class memory_limiter {
public:
  rate_outcome take(const std::string& key, const limit_spec& spec, const std::string& member,
                    int64_t now_ms);
  /// `window_key` is "{limit name}:{key}".
  void release(const std::string& window_key, const std::string& member);
  void commit(const std::string& window_key, const std::string& member);

private:
  struct window {
    std::deque<std::pair<int64_t, std::string>> entries;
  };
  std::mutex mtx_;
  std::unordered_map<std::string, window> windows_;
};

using rate_callback = std::function<void(const rate_outcome&)>;

/// Reserves a slot in `spec`'s window for `key` and calls `done` (on `self`).
void rate_take(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
               const std::string& key, rate_callback done);

/// Operation limits (SPEC §3.9): reserves a pending slot; while the window is
/// full only because of other pending reservations, waits for them (≤ 3 s).
void rate_reserve(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                  const std::string& key, rate_callback done);

/// The operation succeeded: its reservation now counts for good.
void rate_commit(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                 const std::string& key, const std::string& member);

/// Gives back a reservation of a failed operation.
void rate_release(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                  const std::string& key, const std::string& member);

/// SPEC §9 logs `security.rate_limited` once per key per window: true for the
/// first rejection of `key` (limit name and caller) on this instance until
/// `reset_s` seconds have passed.
bool first_rejection(const std::string& key, int64_t reset_s);

/// The limits of SPEC §3.9 for these settings.
limit_spec global_limit(const config::settings& cfg);
limit_spec auth_limit(const config::settings& cfg);

} // namespace petcare::actors
