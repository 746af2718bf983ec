/// Webhooks of SPEC §4.5, leader only. Answers in the order of §4.1:
/// visibility 404, role 403 (audited), field validation 400 (in strict mode
/// the URL's addresses are resolved only after the role check), then the
/// state checks of the transaction (409 WEBHOOK_LIMIT_REACHED, 404
/// WEBHOOK_NOT_FOUND).

#include <algorithm>
#include <string>

#include "actors/household_ops.hpp"
#include "actors/webhooks.hpp"
#include "http/fields.hpp"
#include "http/route_helpers.hpp"
#include "http/routes.hpp"
#include "storage/webhooks.hpp"

namespace petcare::http {

namespace {

using storage::tx_result;
using read_fn = std::function<caf::expected<nlohmann::json>(storage::database&)>;

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

/// Runs `read` on a database worker and answers 200 with its JSON.
void answer_read(const call_ptr& c, caf::event_based_actor* self, read_fn read) {
  actors::with_db<tx_result>(
    self, c->rt,
    [read](storage::database& db) -> caf::expected<tx_result> {
      auto body = read(db);
      if (!body)
        return std::move(body.error());
      tx_result r;
      r.body = std::move(*body);
      return r;
    },
    answer(c, 200));
}

/// `{url, events}` into `d`; the VALIDATION_ERROR message, empty when fine.
std::string read_draft(const call& c, storage::webhooks::draft& d) {
  std::optional<problem> err;
  auto url = required_string(c.body, "url", err);
  if (err)
    return err->message;
  if (auto p = actors::webhook::url_problem(*url, c.rt->cfg.strict); !p.empty())
    return p;
  d.url = actors::webhook::normalized_url(*url);
  auto events = c.body.find("events");
  if (events == c.body.end() || !events->is_array() || events->empty())
    return "events must be a non-empty array of event names.";
  const auto& known = storage::webhooks::event_names();
  for (size_t i = 0; i < events->size(); ++i) {
    const auto& e = (*events)[i];
    auto name = "events[" + std::to_string(i) + "]";
    if (!e.is_string())
      return name + " must be a string.";
    auto v = e.get<std::string>();
    if (std::find(known.begin(), known.end(), v) == known.end())
      return name + " is not a known event.";
    if (std::find(d.events.begin(), d.events.end(), v) != d.events.end())
      return name + " repeats an event.";
    d.events.push_back(std::move(v));
  }
  return {};
}

void create_webhook(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  storage::webhooks::draft d;
  auto invalid = read_draft(*c, d);
  auto run = [c, self, hid, d](const std::string& validation) {
    actors::mutation m;
    m.who = ctx_of(*c);
    m.hid = hid;
    m.validation_error = validation;
    m.run = [who = m.who, hid, d, key = c->rt->cfg.encryption_key](storage::database& db) {
      return storage::webhooks::create(db, who, hid, d, key);
    };
    actors::checked_mutation(self, c->rt, m, answer(c, 201));
  };
  if (!invalid.empty() || !c->rt->cfg.strict)
    return run(invalid);
  // Strict mode: where the URL leads is looked up only for the leader.
  require_leader(c, self, hid, [=] {
    actors::webhook::check_destination(self, d.url, [run](caf::expected<std::string> problem) {
      run(problem ? *problem : std::string{"url host cannot be resolved."});
    });
  });
}

void list_webhooks(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  require_leader(c, self, hid, [=] {
    answer_read(c, self, [hid](storage::database& db) { return storage::webhooks::list(db, hid); });
  });
}

void delete_webhook(const call_ptr& c, caf::event_based_actor* self) {
  actors::mutation m;
  m.who = ctx_of(*c);
  m.hid = path_id(*c, "householdId");
  m.run = [who = m.who, hid = m.hid, wid = path_id(*c, "webhookId")](storage::database& db) {
    return storage::webhooks::remove(db, who, hid, wid);
  };
  actors::checked_mutation(self, c->rt, m, answer(c, 204));
}

void list_deliveries(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  auto wid = path_id(*c, "webhookId");
  auto q = read_params(*c, {"limit", "cursor"});
  storage::listings::page_request page;
  auto page_error = storage::listings::parse_page(q.get("limit"), q.get("cursor"),
                                                  "webhooks/" + wid + "/deliveries", page);
  auto error = q.error.empty() ? page_error : q.error;
  require_leader(c, self, hid, [=] {
    if (!error.empty())
      return c->fail(validation_error(error));
    answer_read(c, self, [hid, wid, page](storage::database& db) {
      return storage::webhooks::deliveries(db, hid, wid, page);
    });
  });
}

} // namespace

void add_webhook_routes(router& r) {
  r.add(with_secret_answer(
    {"POST", "/v1/households/{householdId}/webhooks", create_webhook, true, body_rule::required}));
  r.add({"GET", "/v1/households/{householdId}/webhooks", list_webhooks, true, body_rule::none});
  r.add({"DELETE", "/v1/households/{householdId}/webhooks/{webhookId}", delete_webhook, true,
         body_rule::none});
  r.add({"GET", "/v1/households/{householdId}/webhooks/{webhookId}/deliveries", list_deliveries, true,
         body_rule::none});
}

} // namespace petcare::http
