#include "actors/household_ops.hpp"

#include "actors/households.hpp"
#include "actors/invite_code.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/pool.hpp"

namespace petcare::actors {

namespace {

constexpr auto registry_timeout = std::chrono::milliseconds{2000};

std::shared_ptr<household_directory> directory() {
  static auto d = std::make_shared<household_directory>();
  return d;
}

/// hid → the household actor the registry handed out, as a weak reference:
/// requests skip the registry hop while that actor lives. An entry never keeps
/// an actor alive; once the registry dropped a stopped actor the lookup misses.
/// Entries from an earlier registry (restarted subsystem) are never used: only
/// the current registry's actors hear invalidations.
class handle_cache {
public:
  std::optional<household_handle> find(const std::string& hid, const caf::actor_addr& registry) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = map_.find(hid);
    if (i == map_.end())
      return std::nullopt;
    auto a = i->second.registry == registry ? caf::actor_cast<caf::actor>(i->second.addr) : caf::actor{};
    if (!a) {
      map_.erase(i);
      return std::nullopt;
    }
    return household_handle{std::move(a), i->second.depth};
  }
  void put(const std::string& hid, const household_handle& h, const caf::actor_addr& registry) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (map_.size() > 1000000)
      map_.clear();
    map_[hid] = entry{h.actor.address(), h.depth, registry};
  }
  void erase(const std::string& hid, const caf::actor_addr& addr) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = map_.find(hid);
    if (i != map_.end() && i->second.addr == addr)
      map_.erase(i);
  }

private:
  struct entry {
    caf::actor_addr addr;
    std::shared_ptr<std::atomic<int64_t>> depth;
    caf::actor_addr registry;
  };
  std::mutex mtx_;
  std::unordered_map<std::string, entry> map_;
};

handle_cache& handles() {
  static handle_cache c;
  return c;
}

/// A request reached an actor that had already stopped (idle timeout,
/// deactivation): it was not processed, so asking a fresh actor is safe.
bool receiver_gone(const caf::error& e) {
  return e == caf::sec::request_receiver_down;
}

/// Finds (or starts) the household's actor, refusing when its queue is full.
void with_actor(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
                bool use_cache, std::function<void(caf::expected<household_handle>)> done) {
  auto admit = [rt, done](household_handle h) {
    if (h.depth->load() >= rt->cfg.household_actor_mailbox_capacity) {
      metrics::instance().inc("household_mailbox_rejections_total");
      done(refusal(errc::service_unavailable, "mailbox_full"));
      return;
    }
    done(std::move(h));
  };
  auto reg = rt->lookup(names::households);
  if (!reg) {
    done(make_error(errc::service_unavailable));
    return;
  }
  if (use_cache)
    if (auto h = handles().find(hid, reg.address()))
      return admit(std::move(*h));
  self->request(reg, registry_timeout, atom::get_v, hid)
    .then(
      [hid, admit, from = reg.address()](household_handle& h) {
        handles().put(hid, h, from);
        admit(std::move(h));
      },
      [done](caf::error& e) { done(std::move(e)); });
}

/// A request that found its actor stopped was not processed: it is asked again
/// through the registry (which may still hand out the stopping actor once).
constexpr int max_attempts = 3;

void fetch(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
           callback<storage::household_row> done, int attempt = 0) {
  with_actor(self, rt, hid, attempt == 0, [self, rt, hid, done, attempt](caf::expected<household_handle> h) {
    if (!h)
      return done(std::move(h.error()));
    h->depth->fetch_add(1);
    auto addr = h->actor.address();
    self->request(h->actor, std::chrono::milliseconds{rt->cfg.request_timeout_ms}, atom::get_v)
      .then([done](storage::household_row& row) { done(std::move(row)); },
            [self, rt, hid, done, attempt, addr](caf::error& e) {
              if (receiver_gone(e) && attempt + 1 < max_attempts) {
                handles().erase(hid, addr);
                return fetch(self, rt, hid, done, attempt + 1);
              }
              done(std::move(e));
            });
  });
}

const storage::member_row* member_of(const storage::household_row& h, const std::string& user) {
  auto now = now_ms();
  for (auto& m : h.members)
    if (m.user_id == user && storage::active_at(m, now))
      return &m;
  return nullptr;
}

bool is_refusal(const caf::error& e, const char* code) {
  return e.category() == storage::errc_category
         && static_cast<storage::errc>(e.code()) == storage::errc::refused
         && e.context().match_element<std::string>(0) && e.context().get_as<std::string>(0) == code;
}

} // namespace

limit_spec join_request_limit() { return {"join_request", 5, 3600000}; }
limit_spec code_lookup_limit(const config::settings& cfg) {
  return {"code_lookup", cfg.code_lookup_rate_limit_max, 3600000};
}
limit_spec household_create_limit() { return {"household_create", 5, 86400000}; }
limit_spec code_regenerate_limit() { return {"code_regenerate", 10, 86400000}; }
limit_spec member_remove_limit() { return {"member_remove", 20, 86400000}; }

storage::code_generator invite_code_generator() {
  return [](const std::string& name, int attempt) {
    return random_invite_code(attempt < 20 ? invite_prefix(name) : random_prefix());
  };
}

void my_household(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& user,
                  callback<storage::household_row> done) {
  auto from_db = [self, rt, user, done] {
    with_db<std::string>(
      self, rt, [user](storage::database& db) { return storage::households::of_user(db, user); },
      [self, rt, user, done](caf::expected<std::string> hid) {
        if (!hid)
          return done(std::move(hid.error()));
        if (hid->empty())
          return done(storage::refused("NOT_IN_HOUSEHOLD"));
        fetch(self, rt, *hid, [user, hid = *hid, done](caf::expected<storage::household_row> h) {
          if (!h && is_refusal(h.error(), "HOUSEHOLD_NOT_FOUND"))
            return done(storage::refused("NOT_IN_HOUSEHOLD"));
          if (h && member_of(*h, user) == nullptr)
            return done(storage::refused("NOT_IN_HOUSEHOLD"));
          if (h)
            directory()->put(user, hid);
          done(std::move(h));
        });
      });
  };
  auto cached = directory()->find(user);
  if (cached.empty())
    return from_db();
  // A cached id is only a hint: the coherent member list confirms it.
  fetch(self, rt, cached, [user, done, from_db](caf::expected<storage::household_row> h) {
    if (h && member_of(*h, user) != nullptr)
      return done(std::move(h));
    directory()->erase(user);
    from_db();
  });
}

void visible_household(caf::event_based_actor* self, const runtime_ptr& rt,
                       const std::string& user, const std::string& hid,
                       callback<storage::household_row> done) {
  fetch(self, rt, hid, [user, done](caf::expected<storage::household_row> h) {
    if (h && member_of(*h, user) == nullptr)
      return done(storage::refused("HOUSEHOLD_NOT_FOUND"));
    done(std::move(h));
  });
}

namespace {

void run_in_household(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
                      tx_fn run, callback<storage::tx_result> done, int attempt) {
  with_actor(self, rt, hid, attempt == 0, [self, rt, hid, run, done, attempt](caf::expected<household_handle> h) {
    if (!h)
      return done(std::move(h.error()));
    h->depth->fetch_add(1);
    auto addr = h->actor.address();
    household_tx tx{std::make_shared<const tx_fn>(run)};
    self->request(h->actor, std::chrono::milliseconds{rt->cfg.request_timeout_ms}, atom::exec_v, tx)
      .then([done](storage::tx_result& r) { done(std::move(r)); },
            [self, rt, hid, run, done, attempt, addr](caf::error& e) {
              if (receiver_gone(e) && attempt + 1 < max_attempts) { // not run: the actor had stopped
                handles().erase(hid, addr);
                return run_in_household(self, rt, hid, run, done, attempt + 1);
              }
              done(std::move(e));
            });
  });
}

} // namespace

void in_household(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& hid,
                  tx_fn run, callback<storage::tx_result> done) {
  run_in_household(self, rt, hid, std::move(run), std::move(done), 0);
}

void checked_mutation(caf::event_based_actor* self, const runtime_ptr& rt, mutation m,
                      callback<storage::tx_result> done) {
  visible_household(self, rt, m.who.user_id, m.hid, [=](caf::expected<storage::household_row> h) {
    if (!h)
      return done(std::move(h.error()));
    // A 403 to a member also writes authorization.denied (SPEC §4.4).
    auto deny = [self, rt, &m, done](std::string code) {
      with_db<bool>(
        self, rt,
        [who = m.who, hid = m.hid, code](storage::database& db) {
          auto err = storage::households::audit_denied(db, who, hid, who.route, code);
          return err ? caf::expected<bool>{std::move(err)} : caf::expected<bool>{true};
        },
        [done, code](caf::expected<bool>) { done(storage::refused(code)); });
    };
    if (m.leader_only && h->leader_id != m.who.user_id)
      return deny("NOT_HOUSEHOLD_LEADER");
    if (!m.refusal.empty())
      return m.refusal_denies ? deny(m.refusal) : done(storage::refused(m.refusal));
    if (!m.validation_error.empty())
      return done(storage::refused("VALIDATION_ERROR", m.validation_error));
    if (!m.limit)
      return in_household(self, rt, m.hid, m.run, done);
    auto spec = *m.limit;
    rate_reserve(self, rt, spec, m.limit_key, [=](const rate_outcome& o) {
      if (!o.allowed)
        return done(rate_limited(spec.name, o.reset_s));
      in_household(self, rt, m.hid, m.run, [=](caf::expected<storage::tx_result> r) {
        if (r)
          rate_commit(self, rt, spec, m.limit_key, o.member);
        else
          rate_release(self, rt, spec, m.limit_key, o.member);
        done(std::move(r));
      });
    });
  });
}

void create_household(caf::event_based_actor* self, const runtime_ptr& rt,
                      const storage::actor_ctx& who, std::string name,
                      std::optional<std::string> description, callback<storage::tx_result> done) {
  // SPEC §4.1: operation limit (429) before state (409); the create row does not
  // refine that order (join's does). The transaction's ALREADY_IN_HOUSEHOLD is
  // authoritative; a refused create gives its slot back.
  auto spec = household_create_limit();
  rate_reserve(self, rt, spec, who.user_id, [=](const rate_outcome& o) {
    if (!o.allowed)
      return done(rate_limited(spec.name, o.reset_s));
    auto gen = invite_code_generator();
    with_db<storage::tx_result>(
      self, rt,
      [=](storage::database& db) { return storage::households::create(db, who, name, description, gen); },
      [=](caf::expected<storage::tx_result> r) {
        if (!r) {
          rate_release(self, rt, spec, who.user_id, o.member);
        } else {
          rate_commit(self, rt, spec, who.user_id, o.member);
          directory()->put(who.user_id, r->household.id);
        }
        done(std::move(r));
      });
  });
}

void join_household(caf::event_based_actor* self, const runtime_ptr& rt,
                    const storage::actor_ctx& who, const std::string& ip, std::string code,
                    callback<storage::tx_result> done) {
  with_db<std::string>(
    self, rt, [u = who.user_id](storage::database& db) { return storage::households::of_user(db, u); },
    [=](caf::expected<std::string> current) {
      if (!current)
        return done(std::move(current.error()));
      if (!current->empty())
        return done(storage::refused("ALREADY_IN_HOUSEHOLD"));
      auto join_spec = join_request_limit();
      rate_reserve(self, rt, join_spec, who.user_id, [=](const rate_outcome& j) {
        if (!j.allowed)
          return done(rate_limited(join_spec.name, j.reset_s));
        auto release = [=] { rate_release(self, rt, join_spec, who.user_id, j.member); };
        auto lookup_spec = code_lookup_limit(rt->cfg);
        // Every attempt reaching the lookup counts, found or not (SPEC §3.9).
        rate_take(self, rt, lookup_spec, ip, [=](const rate_outcome& l) {
          if (!l.allowed) {
            release();
            return done(rate_limited(lookup_spec.name, l.reset_s));
          }
          with_db<std::string>(
            self, rt, [code](storage::database& db) { return storage::households::lookup_code(db, code); },
            [=](caf::expected<std::string> hid) {
              if (!hid) {
                release();
                return done(std::move(hid.error()));
              }
              in_household(self, rt, *hid,
                           [=, hid = *hid](storage::database& db) {
                             return storage::households::join(db, who, hid, code);
                           },
                           [=](caf::expected<storage::tx_result> r) {
                             if (r)
                               rate_commit(self, rt, join_spec, who.user_id, j.member);
                             else
                               release();
                             done(std::move(r));
                           });
            });
        });
      });
    });
}

void on_request(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& request_id,
                std::function<tx_fn(const std::string& hid)> make, callback<storage::tx_result> done) {
  with_db<std::string>(
    self, rt,
    [request_id](storage::database& db) { return storage::households::of_request(db, request_id); },
    [=](caf::expected<std::string> hid) {
      if (!hid) {
        if (hid.error() == storage::errc::not_found)
          return done(storage::refused("REQUEST_NOT_FOUND"));
        return done(std::move(hid.error()));
      }
      in_household(self, rt, *hid, make(*hid), done);
    });
}

} // namespace petcare::actors
