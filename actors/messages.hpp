#pragma once
/// Every atom and payload exchanged between actors of this service.

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

#include "storage/connection.hpp"
#include "storage/redis.hpp"
#include "storage/households.hpp"
#include "storage/idempotency.hpp"
#include "storage/events.hpp"
#include "actors/events.hpp"
#include "storage/rows.hpp"

#include <atomic>

namespace petcare::actors {

/// Work for one pool worker: runs on the worker's own thread with its connection.
/// The message it returns becomes the requester's response.
struct pool_job {
  std::shared_ptr<const std::function<caf::expected<caf::message>(storage::connection&)>> run;
};

/// Local-only payloads carry no wire format: inspected by name.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_job&) {
  return f(caf::meta::type_name("pool_job"));
}

/// A pool's view of itself, for readiness and /metrics.
struct pool_status {
  std::string name;
  int32_t healthy = 0; ///< workers with a working connection
  int32_t in_use = 0;
  int32_t size = 0; ///< workers alive or starting
  int32_t max = 0;
  int32_t queued = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_status& x) {
  return f(caf::meta::type_name("pool_status"), x.name, x.healthy, x.in_use, x.size, x.max,
           x.queued);
}

/// The root supervisor's answer to `health`.
struct health_report {
  bool database = false;
  bool redis = false;
  bool dependencies = false;
  bool shutting_down = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("health_report"), x.database, x.redis, x.dependencies,
           x.shutting_down);
}

/// A mutation to run in the household's transaction (on a database worker).
struct household_tx {
  std::shared_ptr<const std::function<caf::expected<storage::tx_result>(storage::database&)>> run;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, household_tx&) {
  return f(caf::meta::type_name("household_tx"));
}

/// One Redis command and how to read its reply (pipelined by the Redis worker).
struct redis_job {
  std::shared_ptr<const std::vector<std::string>> args;
  std::shared_ptr<const std::function<caf::expected<caf::message>(const storage::redis_reply&)>> parse;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_job&) {
  return f(caf::meta::type_name("redis_job"));
}

/// What the registry hands out: the actor and its queue depth (the bound of
/// HOUSEHOLD_ACTOR_MAILBOX_CAPACITY is enforced by the senders).
struct household_handle {
  caf::actor actor;
  std::shared_ptr<std::atomic<int64_t>> depth;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, household_handle&) {
  return f(caf::meta::type_name("household_handle"));
}

} // namespace petcare::actors

CAF_BEGIN_TYPE_ID_BLOCK(petcare, caf::first_custom_type_id)
  CAF_ADD_ATOM(petcare, petcare::atom, exec, "exec")
  CAF_ADD_ATOM(petcare, petcare::atom, up, "up")
  CAF_ADD_ATOM(petcare, petcare::atom, idle, "idle")
  CAF_ADD_ATOM(petcare, petcare::atom, respawn, "respawn")
  CAF_ADD_ATOM(petcare, petcare::atom, tick, "tick")
  CAF_ADD_ATOM(petcare, petcare::atom, ping, "ping")
  CAF_ADD_ATOM(petcare, petcare::atom, status, "status")
  CAF_ADD_ATOM(petcare, petcare::atom, health, "health")
  CAF_ADD_ATOM(petcare, petcare::atom, heartbeat, "heartbeat")
  CAF_ADD_ATOM(petcare, petcare::atom, drain, "drain")
  CAF_ADD_ATOM(petcare, petcare::atom, invalidate, "invalidate")
  CAF_ADD_ATOM(petcare, petcare::atom, resync, "resync")
  CAF_ADD_ATOM(petcare, petcare::atom, get, "get")
  CAF_ADD_ATOM(petcare, petcare::atom, open, "open")
  CAF_ADD_ATOM(petcare, petcare::atom, publish, "publish")
  CAF_ADD_ATOM(petcare, petcare::atom, revoke, "revoke")
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::pool_job))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::pool_status))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::health_report))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::user_row))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::session_row))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::refresh_result))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::me_row))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::rate_decision))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::household_row))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::tx_result))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::household_tx))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::household_handle))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::redis_job))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::idempotency::claim))
  CAF_ADD_TYPE_ID(petcare, (petcare::storage::events::batch))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::stream_request))
  CAF_ADD_TYPE_ID(petcare, (petcare::actors::household_event))
CAF_END_TYPE_ID_BLOCK(petcare)
