#pragma once
/// Small helpers shared by the /v1 route files.

#include <caf/error.hpp>

#include <string>

#include "http/call.hpp"
#include "storage/households.hpp"

namespace petcare::http {

/// Who asks, for storage transactions and audit rows.
storage::actor_ctx ctx_of(const call& c);

/// A path id as stored (lowercase), or the nil UUID that matches nothing.
std::string path_id(const call& c, const std::string& name);

/// Fails with the mapped problem; 403s and visibility 404s are logged and
/// counted as `security.authz_denied`, 429s as `security.rate_limited` (SPEC §9).
void fail(const call_ptr& c, const caf::error& err);

} // namespace petcare::http
