#pragma once
/// Route registration, one function per capability.

#include "http/router.hpp"

namespace petcare::http {

/// /health, /health/ready, /health/live, /metrics, /openapi.json (SPEC §5).
void add_operational_routes(router& r);

/// /v1/auth/* and /v1/me (SPEC §4.3).
void add_account_routes(router& r);

/// Households, membership and join requests (SPEC §4.4).
void add_household_routes(router& r);

/// The OpenAPI 3.1 document of every /v1 operation (SPEC §5).
std::string openapi_document(const std::string& version);

} // namespace petcare::http
