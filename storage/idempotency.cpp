#include "storage/idempotency.hpp"

#include "storage/pg_detail.hpp"

namespace petcare::storage::idempotency {

caf::expected<claim> take(database& db, const std::string& owner, const std::string& key,
                          const std::string& method, const std::string& route,
                          const std::string& body_sha256) {
  auto& d = db.internals();
  return guarded(d, [&]() -> caf::expected<claim> {
    pqxx::work tx{*d.conn};
    tx.exec_params("DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND expires_at <= now()",
                   owner, key);
    auto inserted = tx.exec_params(
      "INSERT INTO idempotency_keys (owner, key, method, route, body_sha256) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (owner, key) DO NOTHING RETURNING 1",
      owner, key, method, route, body_sha256);
    claim out;
    if (!inserted.empty()) {
      tx.commit();
      return out;
    }
    auto r = tx.exec_params1("SELECT method, route, body_sha256, status, coalesce(response_status, 0), "
                             "coalesce(response_body, '') FROM idempotency_keys WHERE owner = $1 AND key = $2",
                             owner, key);
    tx.commit();
    if (r[0].as<std::string>() != method || r[1].as<std::string>() != route
        || r[2].as<std::string>() != body_sha256)
      out.outcome = claim_outcome::mismatch;
    else if (r[3].as<std::string>() != "done")
      out.outcome = claim_outcome::in_use;
    else {
      out.outcome = claim_outcome::replay;
      out.status = r[4].as<int>();
      out.body = r[5].as<std::string>();
    }
    return out;
  });
}

caf::expected<bool> store(database& db, const std::string& owner, const std::string& key,
                          int status, const std::string& body) {
  auto& d = db.internals();
  return guarded(d, [&]() -> caf::expected<bool> {
    pqxx::work tx{*d.conn};
    tx.exec_params("UPDATE idempotency_keys SET status = 'done', response_status = $3, response_body = $4 "
                   "WHERE owner = $1 AND key = $2",
                   owner, key, status, body);
    tx.commit();
    return true;
  });
}

caf::expected<bool> drop(database& db, const std::string& owner, const std::string& key) {
  auto& d = db.internals();
  return guarded(d, [&]() -> caf::expected<bool> {
    pqxx::work tx{*d.conn};
    tx.exec_params("DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND status = 'in_progress'",
                   owner, key);
    tx.commit();
    return true;
  });
}

caf::expected<int64_t> sweep(database& db) {
  auto& d = db.internals();
  return guarded(d, [&]() -> caf::expected<int64_t> {
    pqxx::work tx{*d.conn};
    auto r = tx.exec("DELETE FROM idempotency_keys WHERE expires_at <= now()");
    tx.commit();
    return static_cast<int64_t>(r.affected_rows());
  });
}

} // namespace petcare::storage::idempotency
