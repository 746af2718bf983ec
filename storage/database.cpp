#include "storage/database.hpp"

#include "storage/pg_detail.hpp"

namespace petcare::storage {

namespace {

constexpr const char* user_columns
  = "id::text, email, password_hash, display_name, " PETCARE_MS("created_at");

user_row to_user(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<int64_t>()};
}

std::function<void(const std::string&)>& notification_observer() {
  static std::function<void(const std::string&)> observer;
  return observer;
}

std::function<void(const audited_action&)>& audit_observer() {
  static std::function<void(const audited_action&)> observer;
  return observer;
}

thread_local commit_tally* current_tally = nullptr;

} // namespace

void on_notifications_created(std::function<void(const std::string& type)> observer) {
  notification_observer() = std::move(observer);
}

void on_audited(std::function<void(const audited_action&)> observer) {
  audit_observer() = std::move(observer);
}

commit_tally::commit_tally() : outer_(current_tally) { current_tally = this; }

commit_tally::~commit_tally() { current_tally = outer_; }

void commit_tally::committed() {
  if (outer_ != nullptr) { // nested call: the outer one decides
    outer_->notifications_.insert(outer_->notifications_.end(), notifications_.begin(),
                                  notifications_.end());
    outer_->audited_.insert(outer_->audited_.end(), audited_.begin(), audited_.end());
  } else {
    if (auto& observer = notification_observer())
      for (const auto& t : notifications_)
        observer(t);
    if (auto& observer = audit_observer())
      for (const auto& a : audited_)
        observer(a);
  }
  notifications_.clear();
  audited_.clear();
}

void commit_tally::notification(const std::string& type) {
  if (current_tally != nullptr)
    current_tally->notifications_.push_back(type);
}

void commit_tally::audited(audited_action a) {
  if (current_tally != nullptr)
    current_tally->audited_.push_back(std::move(a));
}

database::database(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

database::~database() = default;

caf::expected<std::unique_ptr<database>> database::open(const std::string& url) {
  try {
    auto p = std::make_unique<impl>();
    p->conn = std::make_unique<pqxx::connection>(url);
    // "now() + N days" must mean N × 86,400 s (SPEC §3.2), whatever the server's zone.
    pqxx::nontransaction{*p->conn}.exec("SET TIME ZONE 'UTC'");
    return std::unique_ptr<database>{new database(std::move(p))};
  } catch (const std::exception&) {
    return make_error(errc::unavailable);
  }
}

bool database::broken() const {
  return impl_->broken || !impl_->conn->is_open();
}

caf::error database::ping() {
  return guarded(*impl_, [&]() -> caf::error {
    pqxx::nontransaction tx{*impl_->conn};
    tx.exec("SELECT 1");
    return caf::none;
  });
}

caf::expected<int> database::schema_version() {
  return guarded(*impl_, [&]() -> caf::expected<int> {
    pqxx::nontransaction tx{*impl_->conn};
    auto r = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return r[0][0].as<int>();
  });
}

caf::expected<user_row> database::insert_user(const std::string& email,
                                              const std::string& password_hash,
                                              const std::string& display_name) {
  return guarded(*impl_, [&]() -> caf::expected<user_row> {
    pqxx::work tx{*impl_->conn};
    auto r = tx.exec_params1(std::string{"INSERT INTO users (email, password_hash, display_name) "
                                         "VALUES ($1, $2, $3) RETURNING "}
                               + user_columns,
                             email, password_hash, display_name);
    tx.commit();
    return to_user(r);
  });
}

caf::expected<user_row> database::user_by_email(const std::string& email) {
  return guarded(*impl_, [&]() -> caf::expected<user_row> {
    pqxx::nontransaction tx{*impl_->conn};
    auto r = tx.exec_params(std::string{"SELECT "} + user_columns + " FROM users WHERE email = $1",
                            email);
    if (r.empty())
      return make_error(errc::not_found);
    return to_user(r[0]);
  });
}

caf::expected<user_row> database::user_by_id(const std::string& id) {
  return guarded(*impl_, [&]() -> caf::expected<user_row> {
    pqxx::nontransaction tx{*impl_->conn};
    auto r = tx.exec_params(std::string{"SELECT "} + user_columns + " FROM users WHERE id = $1",
                            id);
    if (r.empty())
      return make_error(errc::not_found);
    return to_user(r[0]);
  });
}

caf::error database::set_password_hash(const std::string& user_id,
                                       const std::string& password_hash) {
  return guarded(*impl_, [&]() -> caf::error {
    pqxx::work tx{*impl_->conn};
    tx.exec_params0("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
                    user_id, password_hash);
    tx.commit();
    return caf::none;
  });
}

caf::expected<int64_t> database::create_session(const std::string& user_id, const new_session& s,
                                                bool is_login) {
  auto opt = [](const std::string& v) {
    return v.empty() ? std::optional<std::string>{} : std::optional<std::string>{v};
  };
  return guarded(*impl_, [&]() -> caf::expected<int64_t> {
    pqxx::work tx{*impl_->conn};
    auto r = tx.exec_params1(
      "INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, user_agent, ip_hash) "
      "VALUES ($1, $2, $3, now() + make_interval(days => $4), $5, $6) "
      "RETURNING " PETCARE_MS("expires_at"),
      s.id, user_id, s.refresh_token_hash, static_cast<int>(s.ttl_days), opt(s.user_agent),
      opt(s.ip_hash));
    if (is_login)
      tx.exec_params0("UPDATE users SET last_login_at = now() WHERE id = $1", user_id);
    tx.commit();
    return r[0].as<int64_t>();
  });
}

caf::expected<session_row> database::session_by_id(const std::string& sid) {
  return guarded(*impl_, [&]() -> caf::expected<session_row> {
    pqxx::nontransaction tx{*impl_->conn};
    auto r = tx.exec_params("SELECT id::text, user_id::text, " PETCARE_MS("expires_at")
                            ", revoked_at IS NOT NULL FROM sessions WHERE id = $1",
                            sid);
    if (r.empty())
      return make_error(errc::not_found);
    return session_row{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                       r[0][2].as<int64_t>(), r[0][3].as<bool>()};
  });
}

caf::expected<refresh_result> database::rotate_refresh(const std::string& sid,
                                                       const std::string& presented_hash,
                                                       const std::string& next_hash) {
  return guarded(*impl_, [&]() -> caf::expected<refresh_result> {
    pqxx::work tx{*impl_->conn};
    auto r = tx.exec_params(
      "SELECT user_id::text, refresh_token_hash, coalesce(previous_refresh_token_hash, ''), "
      "revoked_at IS NULL AND expires_at > now() FROM sessions WHERE id = $1 FOR UPDATE",
      sid);
    refresh_result out;
    if (r.empty() || !r[0][3].as<bool>())
      return out;
    const auto current = r[0][1].as<std::string>();
    const auto previous = r[0][2].as<std::string>();
    // Hashes of random 256-bit secrets: comparing them leaks nothing useful, but
    // constant time costs nothing here either.
    if (presented_hash.size() == current.size() && presented_hash == current) {
      tx.exec_params0("UPDATE sessions SET previous_refresh_token_hash = refresh_token_hash, "
                      "refresh_token_hash = $2, last_refreshed_at = now() WHERE id = $1",
                      sid, next_hash);
      auto u = tx.exec_params1(std::string{"SELECT "} + user_columns + " FROM users WHERE id = $1",
                               r[0][0].as<std::string>());
      tx.commit();
      out.outcome = refresh_outcome::rotated;
      out.user = to_user(u);
      return out;
    }
    if (!previous.empty() && presented_hash == previous) {
      tx.exec_params0("UPDATE sessions SET revoked_at = now(), revoked_reason = 'refresh_reuse' "
                      "WHERE id = $1 AND revoked_at IS NULL",
                      sid);
      tx.commit();
      out.outcome = refresh_outcome::reused;
      out.user.id = r[0][0].as<std::string>();
    }
    return out;
  });
}

caf::error database::revoke_session(const std::string& sid, const std::string& reason) {
  return guarded(*impl_, [&]() -> caf::error {
    pqxx::work tx{*impl_->conn};
    tx.exec_params0("UPDATE sessions SET revoked_at = now(), revoked_reason = $2 "
                    "WHERE id = $1 AND revoked_at IS NULL",
                    sid, reason);
    tx.commit();
    return caf::none;
  });
}

caf::expected<me_row> database::me(const std::string& user_id) {
  return guarded(*impl_, [&]() -> caf::expected<me_row> {
    pqxx::nontransaction tx{*impl_->conn};
    auto r = tx.exec_params(
      std::string{"SELECT "} + user_columns
        + ", (SELECT m.household_id::text FROM household_members m WHERE m.user_id = users.id "
          "AND m.status = 'active' AND (NOT m.is_temporary OR m.temporary_expires_at > now()) "
          "LIMIT 1) FROM users WHERE id = $1",
      user_id);
    if (r.empty())
      return make_error(errc::not_found);
    me_row out;
    out.user = to_user(r[0]);
    if (!r[0][5].is_null())
      out.household_id = r[0][5].as<std::string>();
    return out;
  });
}

} // namespace petcare::storage
