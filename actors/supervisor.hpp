#pragma once
/// The root of the supervision tree (SPEC §1.1): starts every subsystem, restarts
/// a crashed one with backoff 1 s → 30 s, marks it failed after more than 5
/// restarts in 60 s, probes PostgreSQL and Redis, and answers readiness.

#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "actors/messages.hpp"
#include "actors/runtime.hpp"

namespace petcare::actors {

/// How to (re)start one subsystem; registered under `name` in the actor registry.
struct subsystem_spec {
  caf::atom_value name;
  std::string label; ///< metric label
  std::function<caf::actor(caf::local_actor*)> start;
};

struct root_state {
  struct child {
    subsystem_spec spec;
    caf::actor handle;
    std::deque<std::chrono::steady_clock::time_point> restarts;
    std::chrono::milliseconds delay{0};
    std::chrono::steady_clock::time_point last_heartbeat;
    bool running = false;
  };
  runtime_ptr rt;
  int schema_version = 0;
  std::map<caf::atom_value, child> children;
  bool db_ok = false;
  bool redis_ok = false;
  bool stopping = false;
  static inline const char* name = "root";
};

/// `(health)` → health_report; `(drain)` marks shutdown (readiness 503 from now on).
caf::behavior root_supervisor(caf::stateful_actor<root_state>* self, runtime_ptr rt,
                              std::vector<subsystem_spec> subsystems, int schema_version);

/// The Redis pub/sub listener (SPEC §9): keeps the session cache coherent and
/// forwards household invalidations to `sink` (may be null).
struct subscriber_state {
  caf::actor worker;
  std::chrono::milliseconds delay{0};
  std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
  static inline const char* name = "subscriber";
};

caf::behavior subscriber(caf::stateful_actor<subscriber_state>* self, runtime_ptr rt,
                         std::function<void(const std::string&)> on_household);

/// Spawns a pool of `n` plain threads for CPU-heavy work (password hashing).
caf::actor spawn_hasher_pool(caf::local_actor* parent, size_t n);

} // namespace petcare::actors
