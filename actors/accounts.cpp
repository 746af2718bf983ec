#include "actors/accounts.hpp"

#include <nlohmann/json.hpp>

#include "actors/redis_client.hpp"
#include "actors/tokens.hpp"
#include "actors/validation.hpp"
#include "storage/crypto.hpp"
#include "storage/redis.hpp"

namespace petcare::actors {

namespace {

namespace crypto = storage::crypto;

std::string session_key(const std::string& sid) { return "hh:session:" + sid; }

/// A pool of "connections" that are just threads: password hashing runs there.
template <class T, class F>
void with_hasher(caf::event_based_actor* self, const runtime_ptr& rt, F fn, callback<T> done) {
  auto h = rt->hasher();
  if (!h) {
    done(make_error(errc::service_unavailable));
    return;
  }
  self->request(h, std::chrono::milliseconds{rt->cfg.request_timeout_ms}, atom::exec_v,
                make_job<storage::connection>(
                  [fn = std::move(fn)](storage::connection&) { return caf::expected<T>{fn()}; }))
    .then([done](T& x) { done(std::move(x)); }, [done](caf::error& e) { done(std::move(e)); });
}

void cache_session(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& sid,
                   const std::string& user_id, int64_t expires_at) {
  rt->sessions->put(sid, user_id, expires_at);
  auto ttl = expires_at - now_ms();
  if (ttl > 0)
    redis_send(self, rt, {"SET", session_key(sid), user_id, "PX", std::to_string(ttl)});
}

/// Creates a session for `user` and signs its tokens.
void open_session(caf::event_based_actor* self, const runtime_ptr& rt, storage::user_row user,
                  client_info client, bool is_login, callback<auth_result> done) {
  auto sid = new_uuid_v4();
  auto refresh = make_refresh_token(sid);
  storage::new_session s{sid, refresh.secret_hash, rt->cfg.refresh_token_ttl_days,
                         client.user_agent, client.ip_hash};
  with_db<int64_t>(
    self, rt,
    [user_id = user.id, s, is_login](storage::database& db) {
      return db.create_session(user_id, s, is_login);
    },
    [self, rt, user, sid, refresh, done](caf::expected<int64_t> expires_at) {
      if (!expires_at) {
        done(std::move(expires_at.error()));
        return;
      }
      cache_session(self, rt, sid, user.id, *expires_at);
      auto now = now_ms() / 1000;
      auth_result out;
      out.user = user;
      out.expires_in = rt->cfg.access_token_ttl_seconds;
      out.access_token = sign_access_token(
        rt->cfg.jwt_secret, {user.id, sid, now, now + rt->cfg.access_token_ttl_seconds});
      out.refresh_token = refresh.token;
      done(std::move(out));
    });
}

const std::string& dummy_hash(const config::settings& cfg) {
  // Unknown emails verify against this so that they cost as much as known ones.
  static const std::string h = crypto::hash_password(
    crypto::hex(crypto::random_bytes(16)), cfg.password_hash_opslimit,
    cfg.password_hash_memlimit_kib);
  return h;
}

} // namespace

void forget_session(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& sid) {
  rt->sessions->erase(sid);
  if (auto hub = rt->lookup(names::events))
    self->send(hub, atom::revoke_v, sid);
  auto note = nlohmann::json{{"t", "session"}, {"id", sid}, {"from", rt->instance_id}}.dump();
  redis_send(self, rt, {"DEL", session_key(sid)});
  redis_send(self, rt, {"PUBLISH", invalidation_channel, note});
}

void authenticate(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& token,
                  callback<caller> done) {
  authenticate(self, rt, verify_access_token(rt->cfg.jwt_secret, token, now_ms() / 1000),
               std::move(done));
}

void authenticate(caf::event_based_actor* self, const runtime_ptr& rt, const token_check& check,
                  callback<caller> done) {
  switch (check.status) {
    case token_status::ok:
      break;
    case token_status::expired:
      done(refusal(errc::token_expired, "expired"));
      return;
    case token_status::bad_signature:
      done(refusal(errc::invalid_token, "bad_signature"));
      return;
    default:
      done(refusal(errc::invalid_token, "malformed"));
      return;
  }
  caller who{check.claims.sub, check.claims.sid};
  if (auto cached = rt->sessions->find(who.sid, now_ms())) {
    if (*cached == who.user_id)
      done(who);
    else
      done(refusal(errc::invalid_token, "revoked"));
    return;
  }
  // Not cached here: PostgreSQL is the truth; Redis only saves it a round trip
  // while this instance hears the invalidation channel.
  auto from_db = [self, rt, who, done] {
    with_db<storage::session_row>(
      self, rt, [sid = who.sid](storage::database& db) { return db.session_by_id(sid); },
      [self, rt, who, done](caf::expected<storage::session_row> s) {
        if (!s && s.error() != storage::errc::not_found) {
          done(std::move(s.error()));
          return;
        }
        if (!s || s->revoked || s->user_id != who.user_id || s->expires_at <= now_ms()) {
          done(refusal(errc::invalid_token, "revoked"));
          return;
        }
        cache_session(self, rt, who.sid, who.user_id, s->expires_at);
        done(who);
      });
  };
  if (!rt->sessions->coherent()) {
    from_db();
    return;
  }
  auto job = make_redis_job<std::string>({"GET", session_key(who.sid)}, [](const storage::redis_reply& r) {
    return caf::expected<std::string>{r.type == storage::redis_reply::kind::string ? r.str : std::string{}};
  });
  redis_call<std::string>(self, rt, std::move(job),
                          [rt, who, exp = check.claims.exp, done, from_db](caf::expected<std::string> user) {
                            if (user && !user->empty() && *user == who.user_id) {
                              rt->sessions->put(who.sid, who.user_id, exp * 1000); // the token dies first anyway
                              done(who);
                              return;
                            }
                            from_db();
                          });
}

void register_account(caf::event_based_actor* self, const runtime_ptr& rt, std::string email,
                      std::string password, std::string display_name, client_info client,
                      callback<auth_result> done) {
  auto ops = rt->cfg.password_hash_opslimit;
  auto mem = rt->cfg.password_hash_memlimit_kib;
  with_hasher<std::string>(
    self, rt, [password, ops, mem] { return crypto::hash_password(password, ops, mem); },
    [=](caf::expected<std::string> hash) {
      if (!hash || hash->empty()) {
        done(hash ? make_error(errc::service_unavailable) : std::move(hash.error()));
        return;
      }
      with_db<storage::user_row>(
        self, rt,
        [email, h = *hash, display_name](storage::database& db) {
          return db.insert_user(email, h, display_name);
        },
        [=](caf::expected<storage::user_row> user) {
          if (!user) {
            done(user.error() == storage::errc::conflict
                   ? make_error(errc::email_already_registered)
                   : std::move(user.error()));
            return;
          }
          open_session(self, rt, std::move(*user), client, true, done);
        });
    });
}

void login(caf::event_based_actor* self, const runtime_ptr& rt, std::string email,
           std::string password, client_info client, callback<auth_result> done) {
  with_db<storage::user_row>(
    self, rt, [email](storage::database& db) { return db.user_by_email(email); },
    [=](caf::expected<storage::user_row> user) {
      if (!user && user.error() != storage::errc::not_found) {
        done(std::move(user.error()));
        return;
      }
      auto known = static_cast<bool>(user);
      auto row = known ? *user : storage::user_row{};
      auto cfg = rt->cfg;
      // The verdict and an upgraded hash come back together from the hasher.
      with_hasher<std::string>(
        self, rt,
        [known, encoded = row.password_hash, password, cfg]() -> std::string {
          if (!known) {
            crypto::verify_password(dummy_hash(cfg), password);
            return {};
          }
          if (!crypto::verify_password(encoded, password))
            return {};
          if (crypto::password_needs_rehash(encoded, cfg.password_hash_opslimit,
                                            cfg.password_hash_memlimit_kib))
            return crypto::hash_password(password, cfg.password_hash_opslimit,
                                         cfg.password_hash_memlimit_kib);
          return encoded;
        },
        [=](caf::expected<std::string> verdict) mutable {
          if (!verdict) {
            done(std::move(verdict.error()));
            return;
          }
          if (verdict->empty()) {
            done(make_error(errc::invalid_credentials));
            return;
          }
          if (*verdict != row.password_hash) {
            auto id = row.id;
            auto h = *verdict;
            with_db<bool>(
              self, rt,
              [id, h](storage::database& db) {
                auto err = db.set_password_hash(id, h);
                return err ? caf::expected<bool>{std::move(err)} : caf::expected<bool>{true};
              },
              [](caf::expected<bool>) {});
            row.password_hash = *verdict;
          }
          open_session(self, rt, row, client, true, done);
        });
    });
}

void refresh(caf::event_based_actor* self, const runtime_ptr& rt, const std::string& token,
             callback<auth_result> done) {
  auto parts = parse_refresh_token(token);
  if (!parts) {
    done(make_error(errc::invalid_refresh_token));
    return;
  }
  auto next = make_refresh_token(parts->sid);
  with_db<storage::refresh_result>(
    self, rt,
    [p = *parts, h = next.secret_hash](storage::database& db) {
      return db.rotate_refresh(p.sid, p.secret_hash, h);
    },
    [=](caf::expected<storage::refresh_result> r) {
      if (!r) {
        done(std::move(r.error()));
        return;
      }
      if (r->outcome == storage::refresh_outcome::reused)
        forget_session(self, rt, parts->sid);
      if (r->outcome != storage::refresh_outcome::rotated) {
        done(refusal(errc::invalid_refresh_token,
                     r->outcome == storage::refresh_outcome::reused ? "refresh_reuse" : ""));
        return;
      }
      auto now = now_ms() / 1000;
      auth_result out;
      out.user = r->user;
      out.expires_in = rt->cfg.access_token_ttl_seconds;
      out.access_token = sign_access_token(
        rt->cfg.jwt_secret, {r->user.id, parts->sid, now, now + rt->cfg.access_token_ttl_seconds});
      out.refresh_token = next.token;
      done(std::move(out));
    });
}

void logout(caf::event_based_actor* self, const runtime_ptr& rt, const caller& who,
            callback<bool> done) {
  with_db<bool>(
    self, rt,
    [sid = who.sid](storage::database& db) {
      auto err = db.revoke_session(sid, "logout");
      return err ? caf::expected<bool>{std::move(err)} : caf::expected<bool>{true};
    },
    [self, rt, who, done](caf::expected<bool> r) {
      if (r)
        forget_session(self, rt, who.sid);
      done(std::move(r));
    });
}

void me(caf::event_based_actor* self, const runtime_ptr& rt, const caller& who,
        callback<storage::me_row> done) {
  with_db<storage::me_row>(
    self, rt, [id = who.user_id](storage::database& db) { return db.me(id); },
    [done](caf::expected<storage::me_row> r) {
      if (!r && r.error() == storage::errc::not_found) {
        done(refusal(errc::invalid_token, "revoked"));
        return;
      }
      done(std::move(r));
    });
}

} // namespace petcare::actors
