/// Lists and notifications of SPEC §4.4: household members, join requests
/// (the caller's and a household's), in-app notifications and the audit log.
/// Household-scoped lists answer in the order of SPEC §4.1: visibility 404,
/// role 403 (audited), then query validation 400.

#include <restinio/all.hpp>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/household_ops.hpp"
#include "actors/metrics.hpp"
#include "actors/validation.hpp"
#include "config/log.hpp"
#include "http/route_helpers.hpp"
#include "http/routes.hpp"
#include "storage/listings.hpp"

namespace petcare::http {

namespace {

using storage::listings::page_request;




/// The query parameters a list understands (others are ignored) and the
/// first problem with them: the VALIDATION_ERROR message, reported only after
/// the visibility and role checks.
struct list_query {
  std::map<std::string, std::string, std::less<>> values;
  std::string error;

  std::optional<std::string_view> get(std::string_view name) const {
    auto i = values.find(name);
    return i == values.end() ? std::nullopt : std::optional<std::string_view>{i->second};
  }
  void problem(std::string message) {
    if (error.empty())
      error = std::move(message);
  }
};

list_query read_query(const call& c, std::initializer_list<std::string_view> known) {
  list_query q;
  auto parsed = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(c.req->header().query());
  if (!parsed) {
    q.problem("The query string is malformed.");
    return q;
  }
  for (const auto& [key, value] : *parsed)
    for (auto name : known)
      if (key == name && !q.values.emplace(std::string{name}, std::string{value}).second)
        q.problem(std::string{name} + " must be given at most once.");
  return q;
}

/// The `name` value, `fallback` when absent; a value outside `allowed` is a problem.
std::string pick(list_query& q, std::string_view name, const char* fallback,
                 std::initializer_list<std::string_view> allowed) {
  auto v = q.get(name);
  if (!v)
    return fallback;
  for (auto a : allowed)
    if (*v == a)
      return std::string{a};
  std::string list;
  for (auto a : allowed)
    list += (list.empty() ? "" : ", ") + std::string{a};
  q.problem(std::string{name} + " must be one of " + list + ".");
  return std::string{*v};
}

/// `limit` and `cursor`, the cursor bound to `filter`.
page_request page_of(list_query& q, std::string filter) {
  page_request page;
  q.problem(storage::listings::parse_page(q.get("limit"), q.get("cursor"), std::move(filter), page));
  return page;
}

const std::initializer_list<std::string_view> request_statuses{
  "pending", "approved", "rejected", "withdrawn", "all"};

/// Runs `read(db)` on a database worker and answers 200 with its JSON.
template <class F>
void answer_read(const call_ptr& c, caf::event_based_actor* self, F read) {
  actors::with_db<storage::tx_result>(
    self, c->rt,
    [read](storage::database& db) -> caf::expected<storage::tx_result> {
      auto body = read(db);
      if (!body)
        return std::move(body.error());
      storage::tx_result r;
      r.body = std::move(*body);
      return r;
    },
    [c](caf::expected<storage::tx_result> r) {
      if (!r)
        return fail(c, r.error());
      c->reply(200, r->body);
    });
}

/// Visibility (404 from the household actor's coherent state), then the
/// leader role when `leader_only` (403, with its `authorization.denied` audit
/// row), then `invalid` as a 400; `then` runs when all pass.
void checked_read(const call_ptr& c, caf::event_based_actor* self, const std::string& hid,
                  bool leader_only, const std::string& invalid, std::function<void()> then) {
  auto valid = [c, invalid, then] {
    if (!invalid.empty())
      return c->fail(validation_error(invalid));
    then();
  };
  if (leader_only)
    return require_leader(c, self, hid, valid);
  actors::visible_household(self, c->rt, c->user_id, hid, [c, valid](caf::expected<storage::household_row> h) {
    if (!h)
      return fail(c, h.error());
    valid();
  });
}

void list_members(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  auto q = read_query(*c, {"status", "limit", "cursor"});
  auto status = pick(q, "status", "active", {"active", "expired"});
  bool expired = status == "expired"; // leader only (SPEC §4.4)
  auto page = page_of(q, "members?status=" + status);
  checked_read(c, self, hid, expired, q.error, [=] {
    answer_read(c, self, [hid, expired, page](storage::database& db) {
      return storage::listings::members(db, hid, expired, page);
    });
  });
}

void my_join_requests(const call_ptr& c, caf::event_based_actor* self) {
  auto q = read_query(*c, {"status", "limit", "cursor"});
  auto status = pick(q, "status", "all", request_statuses);
  auto page = page_of(q, "me/join-requests?status=" + status);
  if (!q.error.empty())
    return c->fail(validation_error(q.error));
  answer_read(c, self, [user = c->user_id, status, page](storage::database& db) {
    return storage::listings::my_join_requests(db, user, status, page);
  });
}

void household_join_requests(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  auto q = read_query(*c, {"status", "limit", "cursor"});
  auto status = pick(q, "status", "pending", request_statuses);
  auto page = page_of(q, "join-requests?status=" + status);
  checked_read(c, self, hid, true, q.error, [=] {
    answer_read(c, self, [hid, status, page](storage::database& db) {
      return storage::listings::household_join_requests(db, hid, status, page);
    });
  });
}

void list_notifications(const call_ptr& c, caf::event_based_actor* self) {
  auto q = read_query(*c, {"unreadOnly", "limit", "cursor"});
  auto unread = pick(q, "unreadOnly", "false", {"true", "false"});
  auto page = page_of(q, "notifications?unreadOnly=" + unread);
  if (!q.error.empty())
    return c->fail(validation_error(q.error));
  answer_read(c, self, [user = c->user_id, only = unread == "true", page](storage::database& db) {
    return storage::listings::notifications(db, user, only, page);
  });
}

void read_notification(const call_ptr& c, caf::event_based_actor* self) {
  answer_read(c, self, [user = c->user_id, nid = path_id(*c, "notificationId")](storage::database& db) {
    return storage::listings::mark_read(db, user, nid);
  });
}

void read_all_notifications(const call_ptr& c, caf::event_based_actor* self) {
  answer_read(c, self, [user = c->user_id](storage::database& db) {
    return storage::listings::mark_all_read(db, user);
  });
}

void audit_log(const call_ptr& c, caf::event_based_actor* self) {
  auto hid = path_id(*c, "householdId");
  auto q = read_query(*c, {"limit", "cursor"});
  auto page = page_of(q, "audit-log");
  checked_read(c, self, hid, true, q.error, [=] {
    answer_read(c, self, [hid, page](storage::database& db) {
      return storage::listings::audit_log(db, hid, page);
    });
  });
}

} // namespace

void add_list_routes(router& r) {
  r.add({"GET", "/v1/households/{householdId}/members", list_members, true, body_rule::none});
  r.add({"GET", "/v1/me/join-requests", my_join_requests, true, body_rule::none});
  r.add({"GET", "/v1/households/{householdId}/join-requests", household_join_requests, true,
         body_rule::none});
  r.add({"GET", "/v1/notifications", list_notifications, true, body_rule::none});
  r.add({"POST", "/v1/notifications/read-all", read_all_notifications, true, body_rule::optional});
  r.add({"POST", "/v1/notifications/{notificationId}/read", read_notification, true,
         body_rule::optional});
  r.add({"GET", "/v1/households/{householdId}/audit-log", audit_log, true, body_rule::none});
}

} // namespace petcare::http
