#pragma once
/// Redis for request actors: one connection on its own thread that pipelines
/// whatever is queued (one write and one read of many commands under load),
/// supervised with reconnect backoff. Redis holds only losable data, so callers
/// treat every failure as "Redis is down" and degrade (SPEC §5).

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/errc.hpp"
#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

/// How long a request waits for Redis before degrading.
constexpr auto redis_timeout = std::chrono::milliseconds{1000};

/// (exec, redis_job) → whatever `parse` makes of the reply.
caf::behavior redis_supervisor(caf::event_based_actor* self, storage::redis_endpoint ep);

/// Builds a job whose reply is turned into a `T` by `parse`.
template <class T, class F>
redis_job make_redis_job(std::vector<std::string> args, F parse) {
  using fn_t = std::function<caf::expected<caf::message>(const storage::redis_reply&)>;
  return redis_job{std::make_shared<const std::vector<std::string>>(std::move(args)),
                   std::make_shared<const fn_t>(
                     [parse = std::move(parse)](const storage::redis_reply& r) -> caf::expected<caf::message> {
                       if (r.type == storage::redis_reply::kind::error)
                         return storage::make_error(storage::errc::query_failed);
                       caf::expected<T> x = parse(r);
                       if (!x)
                         return std::move(x.error());
                       return caf::make_message(std::move(*x));
                     })};
}

/// A command whose answer only matters as success or failure.
redis_job redis_command(std::vector<std::string> args);

/// Sends `job` to the Redis connection; `done` gets the parsed answer or an error.
template <class T>
void redis_call(caf::event_based_actor* self, const runtime_ptr& rt, redis_job job,
                std::function<void(caf::expected<T>)> done) {
  auto r = rt->redis();
  if (!r) {
    done(storage::make_error(storage::errc::unavailable));
    return;
  }
  self->request(r, redis_timeout, atom::exec_v, std::move(job))
    .then([done](T& x) { done(std::move(x)); }, [done](caf::error& e) { done(std::move(e)); });
}

/// Fire-and-forget: Redis is losable.
void redis_send(caf::event_based_actor* self, const runtime_ptr& rt, std::vector<std::string> args);

} // namespace petcare::actors
