#pragma once
/// A supervisor that owns a pool of blocking connections (PostgreSQL or Redis).
/// Each connection lives in its own detached worker actor, so blocking calls never
/// run on a cooperatively scheduled actor or an HTTP I/O thread.

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"

namespace petcare::actors {

using connect_fn = std::function<caf::expected<std::unique_ptr<storage::connection>>()>;

struct pool_config {
  std::string name; ///< "database" or "redis": metric label and log name
  size_t min = 2;
  size_t max = 10;
  std::chrono::milliseconds acquire_timeout{30000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{2000};
  /// No job finished for this long while one runs: the server stopped answering
  /// (e.g. frozen). Everything waiting on the pool then gets `unavailable` at
  /// once, and new work too, until a job finishes. Zero (the default) disables
  /// it: only for servers whose every job is short.
  std::chrono::milliseconds stall_after{0};
  connect_fn connect;
};

struct pool_state {
  struct slot {
    caf::actor worker;
    bool wanted = false; ///< the pool wants a worker here (min, or grown under load)
    bool up = false;     ///< connected and ready
    bool busy = false;
    std::chrono::milliseconds delay{0};
    std::chrono::steady_clock::time_point last_used;
    /// The requester of the job on this worker, answered by the pool (when
    /// the worker finishes, or early when the pool stalls).
    caf::response_promise rp;
    std::shared_ptr<caf::expected<caf::message>> result;
  };
  struct waiting {
    caf::response_promise rp;
    pool_job job;
    std::chrono::steady_clock::time_point deadline;
  };
  pool_config cfg;
  std::vector<slot> slots;
  std::deque<waiting> queue;
  std::chrono::steady_clock::time_point last_finish; ///< a job or ping last ended
  static inline const char* name = "pool";
};

/// Protocol: `(exec, pool_job)` → whatever the job answers, or storage errc
/// `unavailable` (no healthy connection: fail fast) / `timeout` (acquire timeout);
/// `(status)` → pool_status.
caf::behavior pool_supervisor(caf::stateful_actor<pool_state>* self, pool_config cfg);

/// Wraps a typed function as a job for a pool whose connections are `Conn`.
template <class Conn, class F>
pool_job make_job(F f) {
  using fn_t = std::function<caf::expected<caf::message>(storage::connection&)>;
  return pool_job{std::make_shared<const fn_t>(
    [f = std::move(f)](storage::connection& c) -> caf::expected<caf::message> {
      auto r = f(static_cast<Conn&>(c));
      if (!r)
        return std::move(r.error());
      return caf::make_message(std::move(*r));
    })};
}

} // namespace petcare::actors
