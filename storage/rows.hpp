#pragma once
/// Plain rows exchanged between storage and actors. Times are Unix epoch milliseconds.

#include <cstdint>
#include <optional>
#include <string>

#include <caf/meta/type_name.hpp>

namespace petcare::storage {

struct user_row {
  std::string id;
  std::string email;
  std::string password_hash;
  std::string display_name;
  int64_t created_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_row& x) {
  return f(caf::meta::type_name("user_row"), x.id, x.email, x.password_hash, x.display_name,
           x.created_at);
}

/// A session as the authenticator needs it.
struct session_row {
  std::string id;
  std::string user_id;
  int64_t expires_at = 0;
  bool revoked = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_row& x) {
  return f(caf::meta::type_name("session_row"), x.id, x.user_id, x.expires_at, x.revoked);
}

/// What `POST /v1/auth/refresh` found.
enum class refresh_outcome : uint8_t { rotated, invalid, reused };

/// Result of a refresh attempt: the user on success.
struct refresh_result {
  refresh_outcome outcome = refresh_outcome::invalid;
  user_row user;
};

/// Local-only payload: inspected by name.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, refresh_result&) {
  return f(caf::meta::type_name("refresh_result"));
}

/// `GET /v1/me`: the user and their current household, if any.
struct me_row {
  user_row user;
  std::optional<std::string> household_id;
};

/// Local-only payload: rows with optional members are inspected by name only.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, me_row&) {
  return f(caf::meta::type_name("me_row"));
}

} // namespace petcare::storage
