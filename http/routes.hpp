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

/// Members, join-request, notification and audit-log lists; notification reads (SPEC §4.4).
void add_list_routes(router& r);

/// QR code and email invites (SPEC §3.8, §4.4).
void add_invite_routes(router& r);

/// GET /v1/events, Server-Sent Events (SPEC §4.5).
void add_event_routes(router& r);

/// Webhooks and their deliveries (SPEC §4.5).
void add_webhook_routes(router& r);

/// The OpenAPI 3.1 document of every /v1 operation (SPEC §5).
std::string openapi_document(const std::string& version);

} // namespace petcare::http
