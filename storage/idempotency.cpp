#include "storage/idempotency.hpp"

#include "storage/crypto.hpp"
#include "storage/outbox.hpp"
#include "storage/pg_detail.hpp"

namespace petcare::storage::idempotency {

namespace {

constexpr std::string_view sealed_prefix = "sealed:v1:";

std::string associated_data(const std::string& owner, const std::string& key) {
  return owner + '\n' + key;
}

/// "sealed:v1:<nonce>.<ciphertext>", both base64url.
std::string seal_body(const std::string& seal_key, const std::string& owner, const std::string& key,
                      const std::string& body) {
  auto s = outbox::seal(seal_key, body, associated_data(owner, key));
  return std::string{sealed_prefix} + crypto::base64url(s.nonce) + '.' + crypto::base64url(s.ciphertext);
}

std::optional<std::string> open_body(const std::string& encryption_key, const std::string& owner,
                                     const std::string& key, std::string_view stored) {
  stored.remove_prefix(sealed_prefix.size());
  auto dot = stored.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  auto nonce = crypto::base64url_decode(stored.substr(0, dot));
  auto ciphertext = crypto::base64url_decode(stored.substr(dot + 1));
  if (!nonce || !ciphertext)
    return std::nullopt;
  return outbox::open(encryption_key, {*nonce, *ciphertext}, associated_data(owner, key));
}

} // namespace

caf::expected<claim> take(database& db, const std::string& owner, const std::string& key,
                          const std::string& method, const std::string& route,
                          const std::string& body_sha256, const std::string& encryption_key) {
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
      if (out.body.rfind(sealed_prefix, 0) == 0) {
        auto plain = open_body(encryption_key, owner, key, out.body);
        out.body = plain.value_or(std::string{});
        if (!plain)
          out.outcome = claim_outcome::unreadable;
      }
    }
    return out;
  });
}

caf::expected<bool> store(database& db, const std::string& owner, const std::string& key,
                          int status, const std::string& body, const std::string& seal_key) {
  auto& d = db.internals();
  return guarded(d, [&]() -> caf::expected<bool> {
    pqxx::work tx{*d.conn};
    tx.exec_params("UPDATE idempotency_keys SET status = 'done', response_status = $3, response_body = $4 "
                   "WHERE owner = $1 AND key = $2",
                   owner, key, status,
                   seal_key.empty() || body.empty() ? body : seal_body(seal_key, owner, key, body));
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
