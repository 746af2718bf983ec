/// QR codes and email invites of SPEC §3.8 and §4.4. Household-scoped routes
/// answer in the order of §4.1: FEATURE_DISABLED (email invites), visibility
/// 404, role 403 (audited), field validation 400, operation limit 429, then
/// the state checks of the transaction.

#include <restinio/all.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/household_ops.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/outbox.hpp"
#include "actors/qr.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "http/fields.hpp"
#include "http/route_helpers.hpp"
#include "http/routes.hpp"
#include "storage/crypto.hpp"
#include "storage/invites.hpp"

namespace petcare::http {

namespace {

using storage::tx_result;
constexpr size_t max_personal_message = 500;




/// 404 FEATURE_DISABLED while ENABLE_EMAIL_INVITES is off; true when it answered.
bool invites_disabled(const call_ptr& c) {
  if (c->rt->cfg.enable_email_invites)
    return false;
  c->fail(problem_for("FEATURE_DISABLED"));
  return true;
}

/// Answers a transaction with `status` and its body.
actors::callback<tx_result> answer(const call_ptr& c, int status) {
  return [c, status](caf::expected<tx_result> r) {
    if (!r)
      return fail(c, r.error());
    if (status == 204)
      return c->reply_empty(204);
    c->reply(status, r->body);
  };
}

/// Visibility from the household actor's snapshot, then the leader role (a
/// 403 writes its `authorization.denied` audit row); `then` gets the snapshot.
void as_leader(const call_ptr& c, caf::event_based_actor* self, const std::string& hid,
               std::function<void(const storage::household_row&)> then) {
  actors::visible_household(self, c->rt, c->user_id, hid, [=](caf::expected<storage::household_row> h) {
    if (!h)
      return fail(c, h.error());
    if (h->leader_id == c->user_id)
      return then(*h);
    auto who = ctx_of(*c);
    actors::with_db<bool>(
      self, c->rt,
      [who, hid](storage::database& db) {
        auto err = storage::households::audit_denied(db, who, hid, who.route, "NOT_HOUSEHOLD_LEADER");
        return err ? caf::expected<bool>{std::move(err)} : caf::expected<bool>{true};
      },
      [c](caf::expected<bool>) { fail(c, storage::refused("NOT_HOUSEHOLD_LEADER")); });
  });
}

/// `size` (200..1000, default 400) and `format` (png|data-url, default png).
struct qr_request {
  int size = actors::qr_default_size;
  bool data_url = false;
  std::string error;
};

qr_request read_qr_request(const call& c) {
  qr_request out;
  auto q = read_params(c, {"size", "format"});
  out.error = q.error;
  if (auto s = q.get("size")) {
    int v = 0;
    bool digits = !s->empty() && s->size() <= 4;
    for (char ch : *s)
      digits = digits && ch >= '0' && ch <= '9', v = v * 10 + (ch - '0');
    if (!digits || v < actors::qr_min_size || v > actors::qr_max_size)
      out.error = out.error.empty() ? "size must be an integer from 200 to 1000." : out.error;
    else
      out.size = v;
  }
  if (auto f = q.get("format")) {
    if (*f == "data-url")
      out.data_url = true;
    else if (*f != "png" && out.error.empty())
      out.error = "format must be one of png, data-url.";
  }
  return out;
}

void qr_code(const call_ptr& c, caf::event_based_actor* self) {
  auto q = read_qr_request(*c);
  as_leader(c, self, path_id(*c, "householdId"), [=](const storage::household_row& h) {
    if (!q.error.empty())
      return c->fail(validation_error(q.error));
    if (h.invite_code.empty() || (h.invite_code_expires_at != 0 && h.invite_code_expires_at <= actors::now_ms())) {
      auto p = problem_for("EXPIRED_INVITE_CODE");
      p.status = 409;
      p.message = "Your invite code has expired. Generate a new one first.";
      return c->fail(p);
    }
    auto url = actors::qr_join_url(c->rt->cfg.public_app_url, h.invite_code);
    nlohmann::json meta{{"inviteCode", h.invite_code},
                        {"inviteCodeExpiresAt", h.invite_code_expires_at == 0
                                                  ? nlohmann::json(nullptr)
                                                  : nlohmann::json(actors::format_time_ms(h.invite_code_expires_at))},
                        {"joinUrl", url},
                        {"caption", "Scan to join " + h.name}};
    actors::render_qr(self, c->rt, url, q.size, [c, q, meta](caf::expected<std::string> png) mutable {
      if (!png)
        return c->fail(png.error());
      if (!q.data_url)
        return c->reply_raw(200, "image/png", std::move(*png));
      meta["qrCodeDataUrl"] = "data:image/png;base64," + storage::crypto::base64(*png);
      c->reply(200, meta);
    });
  });
}

/// personalMessage: optional string or null, trimmed, newlines allowed, ≤ 500.
std::optional<std::string> personal_message(const nlohmann::json& body, std::string& error) {
  std::optional<problem> err;
  auto f = optional_string(body, "personalMessage", err);
  if (err) {
    error = err->message;
    return std::nullopt;
  }
  if (!f.present || f.is_null)
    return std::nullopt;
  auto v = f.value;
  auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; };
  while (!v.empty() && space(v.back()))
    v.pop_back();
  size_t start = 0;
  while (start < v.size() && space(v[start]))
    ++start;
  v.erase(0, start);
  std::string controls_removed;
  for (char ch : v)
    if (ch != '\n' && ch != '\r' && ch != '\t')
      controls_removed += ch;
  if (actors::has_control(controls_removed))
    error = "personalMessage must not contain control characters other than line breaks.";
  else if (actors::code_points(v) > max_personal_message)
    error = "personalMessage must be 500 characters or less.";
  if (v.empty())
    return std::nullopt;
  return v;
}

void send_invite(const call_ptr& c, caf::event_based_actor* self) {
  if (invites_disabled(c))
    return;
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  storage::invites::draft d;
  std::optional<problem> err;
  auto email = required_string(c->body, "email", err);
  if (err)
    m.validation_error = err->message;
  else if (auto e = actors::normalize_email(*email))
    d.email = *e;
  else
    m.refusal = "INVALID_EMAIL";
  if (m.validation_error.empty())
    d.personal_message = personal_message(c->body, m.validation_error);
  d.token = storage::crypto::base64url(storage::crypto::random_bytes(32));
  d.token_hash = storage::crypto::sha256_hex(d.token);
  m.limit = actors::limit_spec{"email_invite", 20, 3600000};
  m.limit_key = c->user_id;
  const auto& cfg = c->rt->cfg;
  storage::invites::mail_settings mail{cfg.encryption_key, cfg.public_app_url,
                                       config::email_domain(cfg.from_email), cfg.email_invite_ttl_days};
  m.run = [who = m.who, hid = m.hid, d, mail](storage::database& db) {
    return storage::invites::send(db, who, hid, d, mail);
  };
  actors::checked_mutation(self, c->rt, m, [c, self](caf::expected<tx_result> r) {
    if (r)
      if (auto o = c->rt->lookup(actors::outbox_name))
        self->send(o, atom::ping_v); // deliver now rather than at the next poll
    answer(c, 201)(std::move(r));
  });
}

void list_invites(const call_ptr& c, caf::event_based_actor* self) {
  if (invites_disabled(c))
    return;
  auto hid = path_id(*c, "householdId");
  auto q = read_params(*c, {"status", "limit", "cursor"});
  std::string status{q.get("status").value_or("all")};
  if (status != "all" && status != "pending" && status != "accepted" && status != "revoked"
      && status != "expired" && q.error.empty())
    q.error = "status must be one of pending, accepted, revoked, expired, all.";
  storage::listings::page_request page;
  auto page_error = storage::listings::parse_page(q.get("limit"), q.get("cursor"),
                                                  "email-invites?status=" + status, page);
  auto error = q.error.empty() ? page_error : q.error;
  as_leader(c, self, hid, [=](const storage::household_row&) {
    if (!error.empty())
      return c->fail(validation_error(error));
    actors::with_db<tx_result>(
      self, c->rt,
      [hid, status, page](storage::database& db) -> caf::expected<tx_result> {
        auto body = storage::invites::list(db, hid, status, page);
        if (!body)
          return std::move(body.error());
        tx_result r;
        r.body = std::move(*body);
        return r;
      },
      answer(c, 200));
  });
}

void revoke_invite(const call_ptr& c, caf::event_based_actor* self) {
  if (invites_disabled(c))
    return;
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  m.run = [who = m.who, hid = m.hid, iid = path_id(*c, "inviteId")](storage::database& db) {
    return storage::invites::revoke(db, who, hid, iid);
  };
  actors::checked_mutation(self, c->rt, m, answer(c, 204));
}

/// SHA-256 of the `token` field; empty (with `c` answered) when missing.
std::string token_hash_of(const call_ptr& c) {
  std::optional<problem> err;
  auto token = required_string(c->body, "token", err);
  if (!err && token->empty())
    err = validation_error("token is required.");
  if (err) {
    c->fail(*err);
    return {};
  }
  return storage::crypto::sha256_hex(*token);
}

void preview_invite(const call_ptr& c, caf::event_based_actor* self) {
  if (invites_disabled(c))
    return;
  auto hash = token_hash_of(c);
  if (hash.empty())
    return;
  actors::with_db<tx_result>(
    self, c->rt,
    [hash](storage::database& db) -> caf::expected<tx_result> {
      auto body = storage::invites::preview(db, hash);
      if (!body)
        return std::move(body.error());
      tx_result r;
      r.body = std::move(*body);
      return r;
    },
    [c](caf::expected<tx_result> r) { r ? c->reply(200, r->body) : c->fail(r.error()); });
}

/// 404 → 410 → 409 ALREADY_IN_HOUSEHOLD → 429 join_request → the transaction
/// (409 DUPLICATE_REQUEST → HOUSEHOLD_AT_CAPACITY); a refusal gives the slot back.
void accept_invite(const call_ptr& c, caf::event_based_actor* self) {
  if (invites_disabled(c))
    return;
  auto hash = token_hash_of(c);
  if (hash.empty())
    return;
  auto rt = c->rt;
  auto who = ctx_of(*c);
  actors::with_db<std::string>(
    self, rt, [hash, who](storage::database& db) {
      return storage::invites::household_for_accept(db, hash, who.user_id);
    },
    [=](caf::expected<std::string> hid) {
      if (!hid)
        return c->fail(hid.error());
      auto spec = actors::join_request_limit();
      actors::rate_reserve(self, rt, spec, who.user_id, [=, hid = *hid](const actors::rate_outcome& o) {
        if (!o.allowed)
          return fail(c, actors::rate_limited(spec.name, o.reset_s));
        actors::in_household(
          self, rt, hid, [=](storage::database& db) { return storage::invites::accept(db, who, hid, hash); },
          [=](caf::expected<tx_result> r) {
            if (r)
              actors::rate_commit(self, rt, spec, who.user_id, o.member);
            else
              actors::rate_release(self, rt, spec, who.user_id, o.member);
            r ? c->reply(201, r->body) : fail(c, r.error());
          });
      });
    });
}

} // namespace

void add_invite_routes(router& r) {
  r.add({"GET", "/v1/households/{householdId}/qr-code", qr_code, true, body_rule::none});
  r.add({"POST", "/v1/households/{householdId}/email-invites", send_invite, true, body_rule::required});
  r.add({"GET", "/v1/households/{householdId}/email-invites", list_invites, true, body_rule::none});
  r.add({"DELETE", "/v1/households/{householdId}/email-invites/{inviteId}", revoke_invite, true,
         body_rule::none});
  r.add({"POST", "/v1/email-invites/preview", preview_invite, true, body_rule::required});
  r.add({"POST", "/v1/email-invites/accept", accept_invite, true, body_rule::required});
}

} // namespace petcare::http
