#include "http/pipeline.hpp"

#include <cctype>
#include <regex>

#include "actors/accounts.hpp"
#include "actors/metrics.hpp"
#include "actors/rate_limit.hpp"
#include "actors/tokens.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "http/json_body.hpp"
#include "http/request_rules.hpp"
#include "http/route_helpers.hpp"
#include "storage/crypto.hpp"
#include "storage/idempotency.hpp"

namespace petcare::http {

namespace {

std::string client_ip(const actors::runtime& rt, const restinio::request_t& req) {
  auto peer = req.remote_endpoint().address().to_string();
  if (rt.cfg.trust_proxy_hops <= 0)
    return peer;
  auto xff = req.header().opt_value_of("X-Forwarded-For");
  if (!xff)
    return peer;
  std::vector<std::string> hops;
  std::string cur;
  for (char ch : std::string{*xff}) {
    if (ch == ',') {
      hops.push_back(cur);
      cur.clear();
    } else if (ch != ' ' && ch != '\t') {
      cur += ch;
    }
  }
  hops.push_back(cur);
  auto n = static_cast<size_t>(rt.cfg.trust_proxy_hops);
  if (hops.size() < n || hops[hops.size() - n].empty())
    return peer;
  return hops[hops.size() - n];
}

size_t header_bytes(const restinio::request_t& req) {
  size_t total = req.header().request_target().size();
  req.header().for_each_field([&](const restinio::http_header_field_t& f) {
    total += f.name().size() + f.value().size() + 4;
  });
  return total;
}

/// "Bearer xyz" → "xyz"; empty when missing or another scheme.
std::string bearer_of(const restinio::request_t& req) {
  auto h = req.header().opt_value_of(restinio::http_field::authorization);
  if (!h)
    return bearer_token(std::nullopt);
  return bearer_token(std::string_view{h->data(), h->size()});
}

void set_rate_headers(call& c, const actors::rate_outcome& o) {
  c.headers.emplace_back("X-RateLimit-Limit", std::to_string(o.limit));
  c.headers.emplace_back("X-RateLimit-Remaining", std::to_string(o.remaining));
  c.headers.emplace_back("X-RateLimit-Reset", std::to_string(o.reset_s));
}

void reject_rate(const call_ptr& c, const std::string& limit, const std::string& key,
                 const actors::rate_outcome& o) {
  actors::metrics::instance().inc("rate_limit_rejections_total", {{"limit", limit}});
  if (actors::first_rejection(limit + '|' + key, o.reset_s))
    config::log(config::log_level::warn, "security.rate_limited",
                {{"limit", limit}, {"requestId", c->request_id}, {"ipHash", c->ip_hash}});
  c->fail(actors::rate_limited(limit, o.reset_s));
}

/// The request's own path, ids lower-cased as the router normalises them: the
/// "route" an Idempotency-Key is bound to (another resource is another request).
std::string idempotency_route(const call& c) {
  std::string path{c.req->header().path()};
  for (auto& ch : path)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return path;
}

/// SPEC §4.5: with an Idempotency-Key, the first answer is stored before it is
/// sent and replayed to later requests with the same key; `run` executes otherwise.
/// Answers of `r.secret_answer` routes are stored sealed (SPEC §9).
void with_idempotency(const call_ptr& c, const route& r, caf::event_based_actor* self,
                      std::function<void()> run) {
  auto header = c->req->header().opt_value_of("Idempotency-Key");
  if (!header || (c->method != "POST" && c->method != "PATCH"))
    return run();
  std::string key{*header};
  if (!valid_idempotency_key(key))
    return c->fail(validation_error("Idempotency-Key must be 1-255 visible ASCII characters."));
  auto owner = c->user_id.empty() ? "ip:" + c->ip_hash : c->user_id;
  auto digest = storage::crypto::sha256_hex(c->req->body());
  auto rt = c->rt;
  actors::with_db<storage::idempotency::claim>(
    self, rt,
    [owner, key, method = c->method, route = idempotency_route(*c), digest,
     encryption_key = rt->cfg.encryption_key](storage::database& db) {
      return storage::idempotency::take(db, owner, key, method, route, digest, encryption_key);
    },
    [c, &r, self, rt, owner, key, run](caf::expected<storage::idempotency::claim> cl) {
      using storage::idempotency::claim_outcome;
      if (!cl)
        return c->fail(cl.error());
      switch (cl->outcome) {
        case claim_outcome::mismatch:
          return c->fail(problem_for("IDEMPOTENCY_KEY_REUSED"));
        case claim_outcome::in_use:
          return c->fail(problem_for("IDEMPOTENCY_KEY_IN_USE"));
        case claim_outcome::unreadable: // sealed under another ENCRYPTION_KEY: instances disagree
          config::log(config::log_level::error, "idempotency.unreadable_answer",
                      {{"requestId", c->request_id}});
          return c->fail(problem_for("INTERNAL_ERROR"));
        case claim_outcome::replay:
          c->headers.emplace_back("Idempotent-Replayed", "true");
          if (cl->body.empty())
            return c->reply_empty(cl->status);
          return c->reply_raw(cl->status, "application/json; charset=utf-8", cl->body);
        case claim_outcome::claimed:
          break;
      }
      auto seal_key = r.secret_answer ? rt->cfg.encryption_key : std::string{};
      c->before_send = [self, rt, owner, key, seal_key](int status, const std::string& body,
                                                        std::function<void()> transmit) {
        // A failure on our side (5xx) and a rate limit (429) are not answers to
        // keep: the client may retry, and a replayed 429 would lack Retry-After.
        bool keep = status < 500 && status != 429;
        actors::with_db<bool>(
          self, rt,
          [owner, key, status, body, keep, seal_key](storage::database& db) {
            return keep ? storage::idempotency::store(db, owner, key, status, body, seal_key)
                        : storage::idempotency::drop(db, owner, key);
          },
          [transmit](caf::expected<bool>) { transmit(); });
      };
      run();
    });
}

/// Steps after the limits: authentication, idempotency, body, handler. `token`
/// is the bearer token as the global limit already checked it (signature once
/// per request).
void authenticated_part(const call_ptr& c, const route& r, caf::event_based_actor* self,
                        const actors::token_check& token) {
  auto run_handler = [c, &r, self] {
    if (r.body != body_rule::none) {
      auto ct = c->req->header().opt_value_of(restinio::http_field::content_type);
      std::optional<std::string_view> ctv;
      if (ct)
        ctv = std::string_view{ct->data(), ct->size()};
      parsed_body parsed{body_status::absent, nlohmann::json::object()};
      if (auto refused = body_refusal(r.body, ctv, c->req->body(), parsed))
        return c->fail(*refused);
      c->body_present = parsed.status == body_status::ok;
      c->body = std::move(parsed.value);
    }
    r.run(c, self);
  };
  if (!r.auth)
    return with_idempotency(c, r, self, run_handler);
  if (bearer_of(*c->req).empty())
    return reject_auth(c, actors::make_error(actors::errc::auth_required));
  actors::authenticate(self, c->rt, token, [c, &r, self, run_handler](caf::expected<actors::caller> who) {
    if (!who) {
      if (who.error().category() == actors::errc_category)
        return reject_auth(c, who.error());
      return c->fail(who.error());
    }
    c->user_id = who->user_id;
    c->sid = who->sid;
    with_idempotency(c, r, self, run_handler);
  });
}

bool preflight(const call_ptr& c);

void v1_pipeline(const call_ptr& c, match m, const std::string& oversize,
                 caf::event_based_actor* self) {
  auto& rt = c->rt;
  // Global limit key: the user of a valid token, else the client IP (SPEC §3.9).
  std::string key = "ip:" + c->client_ip;
  actors::token_check token;
  if (auto bearer = bearer_of(*c->req); !bearer.empty()) {
    token = actors::verify_access_token(rt->cfg.jwt_secret, bearer, actors::now_ms() / 1000);
    if (token.status == actors::token_status::ok)
      key = "user:" + token.claims.sub;
  }
  actors::rate_take(self, rt, actors::global_limit(rt->cfg), key,
                    [c, m, oversize, self, key, token](const actors::rate_outcome& o) {
                      set_rate_headers(*c, o);
                      if (!oversize.empty())
                        return c->fail(problem_for(oversize));
                      if (preflight(c)) // a /v1 preflight carries the limit's headers too (SPEC §3.9)
                        return;
                      if (auto refused = route_refusal(m)) {
                        if (!m.allow.empty())
                          c->headers.emplace_back("Allow", m.allow);
                        return c->fail(problem_for(refused));
                      }
                      if (!o.allowed)
                        return reject_rate(c, "global", key, o);
                      const route& r = *m.found;
                      if (!r.auth_limit)
                        return authenticated_part(c, r, self, token);
                      actors::rate_take(self, c->rt, actors::auth_limit(c->rt->cfg),
                                        "ip:" + c->client_ip,
                                        [c, &r, self, token](const actors::rate_outcome& a) {
                                          if (!a.allowed)
                                            return reject_rate(c, "auth", "ip:" + c->client_ip, a);
                                          authenticated_part(c, r, self, token);
                                        });
                    });
}

bool preflight(const call_ptr& c) {
  auto& h = c->req->header();
  auto origin = h.opt_value_of("Origin");
  if (h.method() != restinio::http_method_options() || !origin
      || !h.opt_value_of("Access-Control-Request-Method"))
    return false;
  bool allowed = false;
  for (auto& o : c->rt->cfg.cors_origins)
    allowed = allowed || o == *origin || o == "*";
  if (!allowed) {
    c->fail(problem_for("CORS_ORIGIN_DENIED"));
    return true;
  }
  c->headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
  c->headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id");
  c->headers.emplace_back("Access-Control-Max-Age", "600");
  c->reply_empty(204);
  return true;
}

} // namespace

restinio::request_handling_status_t handle_request(const actors::runtime_ptr& rt,
                                                   const router& routes,
                                                   restinio::request_handle_t req) {
  in_flight().fetch_add(1);
  auto c = std::make_shared<call>();
  c->req = req;
  c->rt = rt;
  auto given = req->header().opt_value_of("X-Request-Id");
  c->request_id = given && valid_request_id(*given) ? std::string{*given} : actors::new_uuid_v4();
  c->method = req->header().method().c_str();
  c->client_ip = client_ip(*rt, *req);
  c->ip_hash = storage::crypto::ip_hash(rt->cfg.encryption_key, c->client_ip);
  try {
    std::string path{req->header().path()};
    bool v1 = path == "/v1" || path.rfind("/v1/", 0) == 0;
    const char* too_large = size_refusal(header_bytes(*req), req->body().size(),
                                         rt->cfg.http_body_limit_bytes);
    if (too_large != nullptr && !v1) {
      c->fail(problem_for(too_large));
      return restinio::request_accepted();
    }
    if (too_large == nullptr && !v1 && preflight(c))
      return restinio::request_accepted();
    auto m = routes.find(c->method, path);
    if (!m.path.empty())
      c->route = m.path;
    c->params = m.params;
    if (!v1) {
      if (auto refused = route_refusal(m)) {
        if (!m.allow.empty())
          c->headers.emplace_back("Allow", m.allow);
        c->fail(problem_for(refused));
        return restinio::request_accepted();
      }
      c->quiet = true;
      auto run = m.found->run;
      rt->sys->spawn([c, run](caf::event_based_actor* self) { run(c, self); });
      return restinio::request_accepted();
    }
    // /v1: even a refused request counts against the global limit and carries its headers.
    std::string oversize = too_large == nullptr ? std::string{} : std::string{too_large};
    rt->sys->spawn([c, m, oversize](caf::event_based_actor* self) { v1_pipeline(c, m, oversize, self); });
  } catch (const std::exception&) {
    c->fail(problem_for("INTERNAL_ERROR"));
  }
  return restinio::request_accepted();
}

} // namespace petcare::http
