#pragma once
/// Idempotency keys (SPEC §4.5): the first request with a key runs and its answer
/// is stored; later ones with the same key and owner get that answer back.

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <string>

#include "storage/database.hpp"

namespace petcare::storage::idempotency {

enum class claim_outcome : uint8_t { claimed, replay, in_use, mismatch };

struct claim {
  claim_outcome outcome = claim_outcome::claimed;
  int status = 0;   ///< replay: the stored status
  std::string body; ///< replay: the stored body
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim&) {
  return f(caf::meta::type_name("idempotency_claim"));
}

/// Claims (owner, key) for this request, or says what is already there. Keys
/// older than 24 h count as absent.
caf::expected<claim> take(database& db, const std::string& owner, const std::string& key,
                          const std::string& method, const std::string& route,
                          const std::string& body_sha256);

/// Stores the answer of a claimed key.
caf::expected<bool> store(database& db, const std::string& owner, const std::string& key,
                          int status, const std::string& body);

/// Forgets a claimed key (the request failed on our side: 5xx may be retried).
caf::expected<bool> drop(database& db, const std::string& owner, const std::string& key);

/// Hourly sweep: deletes expired keys; returns how many.
caf::expected<int64_t> sweep(database& db);

} // namespace petcare::storage::idempotency
