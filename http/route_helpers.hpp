#pragma once
/// Small helpers shared by the /v1 route files.

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/call.hpp"
#include "storage/households.hpp"

namespace petcare::http {

/// Who asks, for storage transactions and audit rows.
storage::actor_ctx ctx_of(const call& c);

/// A path id as stored (lowercase), or the nil UUID that matches nothing.
std::string path_id(const call& c, const std::string& name);

/// Fails with a 401: logged as `security.authn_failed` and counted in
/// `auth_failures_total{reason}` (SPEC §9).
void reject_auth(const call_ptr& c, const caf::error& err);

/// Fails with the mapped problem; 403s and visibility 404s are logged and
/// counted as `security.authz_denied`, 429s as `security.rate_limited` (SPEC §9).
void fail(const call_ptr& c, const caf::error& err);

/// Visibility from the household actor's snapshot (404 HOUSEHOLD_NOT_FOUND),
/// then the leader role (403 NOT_HOUSEHOLD_LEADER with its
/// `authorization.denied` audit row); `then` runs for the leader.
void require_leader(const call_ptr& c, caf::event_based_actor* self, const std::string& hid,
                    std::function<void()> then);

/// The known query parameters, each at most once; `error` is the first
/// problem (a VALIDATION_ERROR message, reported after visibility and role).
struct query_params {
  std::map<std::string, std::string, std::less<>> values;
  std::string error;
  std::optional<std::string_view> get(std::string_view name) const;
};

query_params read_params(const call& c, std::initializer_list<std::string_view> known);

} // namespace petcare::http
