#pragma once
/// Refusals decided by the actor layer, carried as `caf::error` values.
/// http/ maps each to its status, code and message (SPEC §4.2).

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace petcare::actors {

enum class errc : uint8_t {
  auth_required = 1,
  invalid_token,
  token_expired,
  invalid_credentials,
  invalid_refresh_token,
  email_already_registered,
  rate_limited,        ///< context: (limit name, retry-after seconds)
  service_unavailable, ///< context: (retry-after seconds)
  request_timeout,
  not_found,           ///< context: (code)
  forbidden,           ///< context: (code)
  conflict,            ///< context: (code, message)
  gone,                ///< context: (code)
  validation,          ///< context: (code, message)
};

constexpr caf::atom_value errc_category = caf::atom("petcare");

inline caf::error make_error(errc x) { return caf::error{static_cast<uint8_t>(x), errc_category}; }

/// A refusal with context, e.g. `refusal(errc::conflict, "DUPLICATE_REQUEST")`.
inline caf::error refusal(errc x, std::string code, std::string message = {}) {
  return caf::error{static_cast<uint8_t>(x), errc_category,
                    caf::make_message(std::move(code), std::move(message))};
}

/// 429 for the named limit of SPEC §3.9.
inline caf::error rate_limited(std::string limit, int64_t retry_after_s) {
  return caf::error{static_cast<uint8_t>(errc::rate_limited), errc_category,
                    caf::make_message(std::move(limit), retry_after_s)};
}

} // namespace petcare::actors
