#pragma once
/// The checks of SPEC §4.1 that need no I/O: header/body size, unmatched
/// routes, the bearer token's presence, the Idempotency-Key format and the
/// body's media type and JSON. The pipeline runs them in the contract's order,
/// interleaved with the rate limits and authentication (actors); the fuzz
/// target tests/fuzz/fuzz_request.cpp calls the same functions with the actor
/// steps stubbed. Nothing here throws except std::bad_alloc.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/errors.hpp"
#include "http/json_body.hpp"
#include "http/router.hpp"

namespace petcare::http {

/// Request line target plus header fields above this ⇒ 431 (SPEC §9).
inline constexpr size_t header_limit = 16 * 1024;

/// `^[A-Za-z0-9._:-]{1,128}$`: a client X-Request-Id we echo.
bool valid_request_id(std::string_view id);

/// "HEADERS_TOO_LARGE", "PAYLOAD_TOO_LARGE" or nullptr (the first check, SPEC §4.1).
const char* size_refusal(size_t header_bytes, size_t body_bytes, int64_t body_limit);

/// "METHOD_NOT_ALLOWED" (send `m.allow` as Allow), "NOT_FOUND", or nullptr when a route matched.
const char* route_refusal(const match& m);

/// "Bearer xyz" (scheme case-insensitive, spaces around the token trimmed) → "xyz";
/// empty when the header is missing, another scheme or the token is empty.
std::string bearer_token(std::optional<std::string_view> authorization);

/// Idempotency-Key: 1–255 visible ASCII characters (SPEC §4.5).
bool valid_idempotency_key(std::string_view key);

/// The body step for a route with `rule`: 415 or 400 MALFORMED_JSON, or
/// nullopt with `out` holding the judged body (absent or ok).
std::optional<problem> body_refusal(body_rule rule, const std::optional<std::string_view>& content_type,
                                    std::string_view body, parsed_body& out);

/// The contract's error body `{"error":{"code","message","requestId"}}` (SPEC §4.1).
std::string problem_json(const problem& p, const std::string& request_id);

} // namespace petcare::http
