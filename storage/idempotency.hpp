#pragma once
/// Idempotency keys (SPEC §4.5): the first request with a key runs and its answer
/// is stored; later ones with the same key and owner get that answer back.

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <string>

#include "storage/database.hpp"

namespace petcare::storage::idempotency {

/// `unreadable`: a stored answer that was sealed under another ENCRYPTION_KEY.
enum class claim_outcome : uint8_t { claimed, replay, in_use, mismatch, unreadable };

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
/// older than 24 h count as absent. `route` is the request's concrete path, so
/// one key sent to another resource is a different request. A sealed stored
/// answer is opened with `encryption_key`.
caf::expected<claim> take(database& db, const std::string& owner, const std::string& key,
                          const std::string& method, const std::string& route,
                          const std::string& body_sha256, const std::string& encryption_key);

/// Stores the answer of a claimed key. With a non-empty `seal_key` the body is
/// stored sealed (XChaCha20-Poly1305, owner and key as associated data): answers
/// that carry tokens or secrets (SPEC §9) are never kept in clear.
caf::expected<bool> store(database& db, const std::string& owner, const std::string& key,
                          int status, const std::string& body, const std::string& seal_key);

/// Forgets a claimed key (the request failed on our side: 5xx may be retried).
caf::expected<bool> drop(database& db, const std::string& owner, const std::string& key);

/// Hourly sweep: deletes expired keys; returns how many.
caf::expected<int64_t> sweep(database& db);

} // namespace petcare::storage::idempotency
