#include "actors/households.hpp"

#include <nlohmann/json.hpp>

#include "actors/accounts.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/pool.hpp"
#include "actors/redis_client.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

namespace {

/// Tells this instance's streams at once and other instances through Redis.
void publish_change(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
                    const storage::tx_result& r) {
  household_event e;
  e.household_id = hid;
  e.changes = r.events;
  e.leader_id = r.household.leader_id;
  e.version = r.household.updated_at;
  for (auto& m : r.household.members)
    e.members.push_back(m.user_id);
  if (!e.changes.empty())
    if (auto hub = rt->lookup(names::events))
      self->send(hub, atom::publish_v, e);
  auto note = nlohmann::json{{"t", "household"}, {"id", hid}, {"from", rt->instance_id},
                             {"changes", e.changes}, {"members", e.members},
                             {"leader", e.leader_id}, {"version", e.version}}
                .dump();
  redis_send(self, rt, {"PUBLISH", invalidation_channel, note});
}

} // namespace

caf::behavior household(caf::stateful_actor<household_state>* self, runtime_ptr rt, std::string id,
                        std::shared_ptr<std::atomic<int64_t>> depth) {
  self->state.rt = rt;
  self->state.id = id;
  self->state.depth = depth;
  auto timeout = std::chrono::milliseconds{rt->cfg.household_actor_idle_timeout_ms};
  auto db_timeout = std::chrono::milliseconds{rt->cfg.request_timeout_ms};
  // Stopping at once would bounce the requests already queued here (each
  // would have to ask the registry again): answer them first, then stop.
  auto retire = [self] {
    self->state.gone = true;
    self->send(self, atom::drain_v);
  };
  return {
    [=](atom::get) -> caf::result<storage::household_row> {
      auto& st = self->state;
      st.depth->fetch_sub(1);
      if (st.gone)
        return storage::refused("HOUSEHOLD_NOT_FOUND");
      // Memory is trusted only while this instance hears invalidations.
      if (st.loaded && !st.stale && st.rt->sessions->coherent())
        return st.row;
      auto db = st.rt->db();
      if (!db)
        return storage::make_error(storage::errc::unavailable);
      auto rp = self->make_response_promise<storage::household_row>();
      self
        ->request(db, db_timeout, atom::exec_v,
                  make_job<storage::database>([id = st.id](storage::database& d) {
                    return storage::households::load(d, id);
                  }))
        .await(
          [=](storage::household_row& row) mutable {
            self->state.row = row;
            self->state.loaded = true;
            self->state.stale = false;
            rp.deliver(std::move(row));
          },
          [=](caf::error& err) mutable {
            if (err == storage::errc::not_found) {
              rp.deliver(storage::refused("HOUSEHOLD_NOT_FOUND"));
              retire();
              return;
            }
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [=](atom::exec, household_tx& tx) -> caf::result<storage::tx_result> {
      self->state.depth->fetch_sub(1);
      if (self->state.gone)
        return storage::refused("HOUSEHOLD_NOT_FOUND");
      auto db = self->state.rt->db();
      if (!db)
        return storage::make_error(storage::errc::unavailable);
      auto rp = self->make_response_promise<storage::tx_result>();
      // `.await`: nothing else reaches this household until PostgreSQL answered.
      self
        ->request(db, db_timeout, atom::exec_v,
                  pool_job{std::make_shared<const std::function<caf::expected<caf::message>(storage::connection&)>>(
                    [run = tx.run](storage::connection& c) -> caf::expected<caf::message> {
                      auto r = (*run)(static_cast<storage::database&>(c));
                      if (!r)
                        return std::move(r.error());
                      return caf::make_message(std::move(*r));
                    })})
        .await(
          [=](storage::tx_result& r) mutable {
            auto& st = self->state;
            if (!r.household.id.empty()) {
              st.row = r.household;
              st.loaded = true;
              st.stale = false;
            }
            publish_change(self, st.rt, st.id, r);
            bool gone = r.household.status == "deactivated";
            rp.deliver(std::move(r));
            if (gone)
              retire();
          },
          [=](caf::error& err) mutable {
            // A refusal may still have committed (403 audit); re-read next time.
            self->state.stale = true;
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [=](atom::invalidate) { self->state.stale = true; },
    [=](atom::drain) { self->quit(); },
    caf::after(timeout) >> [=] { self->quit(); },
  };
}

caf::behavior household_registry(caf::stateful_actor<registry_state>* self, runtime_ptr rt) {
  self->state.rt = rt;
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto i = self->state.ids.find(msg.source);
    if (i == self->state.ids.end())
      return;
    self->state.actors.erase(i->second);
    self->state.ids.erase(i);
    metrics::instance().set("household_actors_active", {}, static_cast<double>(self->state.actors.size()));
  });
  // Household actors are monitored, not linked (one ending must not end the
  // registry), so at shutdown the registry ends them itself; otherwise they
  // would live until their idle timeout and hold the actor system open.
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& [id, e] : self->state.actors)
      self->send_exit(e.handle.actor, msg.reason);
    self->quit(msg.reason);
  });
  metrics::instance().set("household_actors_active", {}, 0);
  return {
    [self](atom::get, const std::string& id) {
      auto& st = self->state;
      auto i = st.actors.find(id);
      if (i != st.actors.end())
        return i->second.handle;
      auto depth = std::make_shared<std::atomic<int64_t>>(0);
      auto a = self->spawn<caf::monitored>(household, st.rt, id, depth);
      household_handle h{a, depth};
      st.actors.emplace(id, registry_state::entry{h});
      st.ids.emplace(a.address(), id);
      metrics::instance().set("household_actors_active", {}, static_cast<double>(st.actors.size()));
      return h;
    },
    [self](atom::invalidate, const std::string& id) {
      auto i = self->state.actors.find(id);
      if (i != self->state.actors.end())
        self->send(i->second.handle.actor, atom::invalidate_v);
    },
    [self](atom::heartbeat) {
      // The root asks every 500 ms: a good moment to publish the queue depth.
      int64_t depth = 0;
      for (auto& [id, e] : self->state.actors)
        depth += std::max<int64_t>(0, e.handle.depth->load());
      metrics::instance().set("actor_mailbox_depth", {{"subsystem", "households"}},
                              static_cast<double>(depth));
      return true;
    },
  };
}

std::string household_directory::find(const std::string& user) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = map_.find(user);
  return i == map_.end() ? std::string{} : i->second;
}

void household_directory::put(const std::string& user, const std::string& hid) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (map_.size() > 1000000)
    map_.clear();
  map_[user] = hid;
}

void household_directory::erase(const std::string& user) {
  std::lock_guard<std::mutex> guard{mtx_};
  map_.erase(user);
}

} // namespace petcare::actors
