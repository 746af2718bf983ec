#pragma once
/// Shared by the libFuzzer targets: the invariants every error answer must
/// keep (SPEC §4.1/§4.2) and the body validation of each request shape.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "http/errors.hpp"

namespace petcare::fuzz {

/// Aborts (a libFuzzer crash) with `what` when `ok` is false.
inline void require(bool ok, const char* what, const std::string& detail = {}) {
  if (ok)
    return;
  std::fprintf(stderr, "FUZZ INVARIANT VIOLATED: %s %s\n", what, detail.c_str());
  std::abort();
}

/// An answer to pure input: a 4xx from the catalogue whose body is exactly
/// {"error":{"code","message","requestId"}} and parses back.
void check_input_problem(const http::problem& p, const std::string& request_id);

/// The field validation a handler runs on `body` before it calls an actor,
/// for the route template `route` ("POST /v1/households"); nullopt = accepted
/// (or a route whose body the handler ignores). Mirrors http/routes_*.cpp
/// with the same pure functions (actors/validation, invite_code, http/fields).
std::optional<http::problem> validate_body(const std::string& route, const nlohmann::json& body);

/// The route templates validate_body knows, for target (c) to pick from.
extern const char* const body_routes[];
extern const size_t body_route_count;

} // namespace petcare::fuzz
