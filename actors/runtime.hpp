#pragma once
/// What every request-scoped actor needs: settings, the live subsystem handles and
/// shared in-process state. Handles are looked up in the actor registry because a
/// restarted subsystem gets a new handle.

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "actors/session_cache.hpp"
#include "config/settings.hpp"

namespace petcare::actors {

class memory_limiter;

/// Registry names of the subsystems (SPEC §1.1).
namespace names {
constexpr caf::atom_value database = caf::atom("database");
constexpr caf::atom_value redis = caf::atom("redis");
constexpr caf::atom_value hasher = caf::atom("hasher");
constexpr caf::atom_value root = caf::atom("root");
constexpr caf::atom_value households = caf::atom("households");
constexpr caf::atom_value events = caf::atom("events");
} // namespace names

struct runtime {
  caf::actor_system* sys = nullptr;
  config::settings cfg;
  std::string instance_id;
  std::shared_ptr<session_cache> sessions;
  std::shared_ptr<memory_limiter> local_limits; ///< degraded-mode rate limits
  std::shared_ptr<std::atomic<bool>> shutting_down;

  caf::actor lookup(caf::atom_value name) const {
    return caf::actor_cast<caf::actor>(sys->registry().get(name));
  }
  caf::actor db() const { return lookup(names::database); }
  caf::actor redis() const { return lookup(names::redis); }
  caf::actor hasher() const { return lookup(names::hasher); }
};

using runtime_ptr = std::shared_ptr<const runtime>;

/// Milliseconds since the Unix epoch (wall clock).
int64_t now_ms();

/// Redis pub/sub channel carrying cross-instance invalidations (SPEC §9).
constexpr const char* invalidation_channel = "hh:invalidate";

} // namespace petcare::actors
