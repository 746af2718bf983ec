#include "actors/rate_limit.hpp"

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/redis_client.hpp"
#include "storage/crypto.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

namespace {

int64_t ceil_s(int64_t ms) { return ms <= 0 ? 0 : (ms + 999) / 1000; }

rate_outcome to_outcome(const limit_spec& spec, bool allowed, int64_t count, int64_t reset_ms,
                        std::string member) {
  rate_outcome out;
  out.allowed = allowed;
  out.limit = spec.max;
  out.remaining = std::max<int64_t>(0, spec.max - count);
  out.reset_s = ceil_s(reset_ms);
  if (!allowed)
    out.reset_s = std::max<int64_t>(1, out.reset_s);
  out.member = std::move(member);
  return out;
}

std::string redis_key(const limit_spec& spec, const std::string& key) {
  return "hh:rl:" + spec.name + ':' + key;
}

} // namespace

rate_outcome memory_limiter::take(const std::string& key, const limit_spec& spec,
                                  const std::string& member, int64_t now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& w = windows_[spec.name + ':' + key];
  while (!w.entries.empty() && w.entries.front().first <= now - spec.window_ms)
    w.entries.pop_front();
  bool allowed = static_cast<int64_t>(w.entries.size()) < spec.max;
  if (allowed)
    w.entries.emplace_back(now, member);
  int64_t reset = w.entries.empty() ? spec.window_ms
                                    : w.entries.front().first + spec.window_ms - now;
  auto out = to_outcome(spec, allowed, static_cast<int64_t>(w.entries.size()), reset, member);
  if (!allowed && member.rfind("p:", 0) == 0)
    for (auto& e : w.entries)
      if (e.second.rfind("p:", 0) == 0)
        out.wait = true;
  return out;
}

void memory_limiter::commit(const std::string& key, const std::string& member) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto w = windows_.find(key);
  if (w == windows_.end())
    return;
  for (auto& e : w->second.entries)
    if (e.second == member)
      e.second = "c:" + member.substr(2);
}

void memory_limiter::release(const std::string& key, const std::string& member) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto w = windows_.find(key);
  if (w == windows_.end())
    return;
  auto& entries = w->second.entries;
  for (auto i = entries.begin(); i != entries.end(); ++i)
    if (i->second == member) {
      entries.erase(i);
      return;
    }
}

namespace {

/// One attempt of a take: Redis, or this instance's memory when Redis is down.
void take_once(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
               const std::string& key, const std::string& member, bool reserve, rate_callback done) {
  auto fallback = [rt, spec, key, member, done] {
    done(rt->local_limits->take(key, spec, member, now_ms()));
  };
  auto job = make_redis_job<storage::rate_decision>(
    {"EVAL", storage::rate_script_text(), "1", redis_key(spec, key), std::to_string(spec.window_ms),
     std::to_string(spec.max), member, reserve ? "reserve" : "count"},
    storage::parse_rate_reply);
  redis_call<storage::rate_decision>(self, rt, std::move(job),
                                     [spec, member, done, fallback](caf::expected<storage::rate_decision> d) {
                                       if (!d)
                                         return fallback();
                                       auto out = to_outcome(spec, d->allowed, d->count, d->reset_ms, member);
                                       out.wait = d->wait;
                                       done(out);
                                     });
}

std::string new_member() {
  return std::to_string(now_ms()) + '-' + storage::crypto::hex(storage::crypto::random_bytes(6));
}

void reserve_until(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                   const std::string& key, std::chrono::steady_clock::time_point deadline,
                   rate_callback done) {
  take_once(self, rt, spec, key, "p:" + new_member(), true,
            [self, rt, spec, key, deadline, done](const rate_outcome& o) {
              if (!o.wait || std::chrono::steady_clock::now() >= deadline)
                return done(o);
              // Full only because of reservations still in flight: ask again shortly.
              self->delayed_send(self, std::chrono::milliseconds{15}, atom::tick_v);
              self->become(caf::keep_behavior, [self, rt, spec, key, deadline, done](atom::tick) {
                self->unbecome();
                reserve_until(self, rt, spec, key, deadline, done);
              });
            });
}

} // namespace

void rate_take(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
               const std::string& key, rate_callback done) {
  take_once(self, rt, spec, key, new_member(), false, std::move(done));
}

void rate_reserve(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                  const std::string& key, rate_callback done) {
  reserve_until(self, rt, spec, key, std::chrono::steady_clock::now() + std::chrono::seconds{3},
                std::move(done));
}

void rate_commit(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                 const std::string& key, const std::string& member) {
  rt->local_limits->commit(spec.name + ':' + key, member);
  redis_send(self, rt, {"EVAL", storage::rate_commit_script_text(), "1", redis_key(spec, key), member,
                        "c:" + member.substr(2)});
}

void rate_release(caf::event_based_actor* self, const runtime_ptr& rt, const limit_spec& spec,
                  const std::string& key, const std::string& member) {
  rt->local_limits->release(spec.name + ':' + key, member);
  redis_send(self, rt, {"ZREM", redis_key(spec, key), member});
}

limit_spec global_limit(const config::settings& cfg) {
  return {"global", cfg.rate_limit_max_requests, cfg.rate_limit_window_ms};
}

limit_spec auth_limit(const config::settings& cfg) {
  return {"auth", cfg.auth_rate_limit_max_requests, cfg.auth_rate_limit_window_ms};
}

bool first_rejection(const std::string& key, int64_t reset_s) {
  using clock = std::chrono::steady_clock;
  static std::mutex mtx;
  static std::unordered_map<std::string, clock::time_point> until;
  auto now = clock::now();
  std::lock_guard<std::mutex> guard{mtx};
  if (until.size() > 100000) // forget the lapsed ones
    for (auto i = until.begin(); i != until.end();)
      i = i->second <= now ? until.erase(i) : std::next(i);
  auto& end = until[key];
  if (end > now)
    return false;
  end = now + std::chrono::seconds{std::max<int64_t>(reset_s, 1)};
  return true;
}

} // namespace petcare::actors
