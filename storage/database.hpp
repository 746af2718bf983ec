#pragma once
/// The PostgreSQL side of the service: one `database` per pool worker, one libpqxx
/// connection inside. Every method is one transaction; libpqxx exceptions end here
/// and come back as `storage::errc` values.

#include <caf/expected.hpp>

#include <memory>
#include <functional>
#include <string>

#include "storage/connection.hpp"
#include "storage/errc.hpp"
#include "storage/rows.hpp"

namespace petcare::storage {

/// New-session fields chosen by the caller (ids and secrets are made above storage).
struct new_session {
  std::string id;
  std::string refresh_token_hash;
  int64_t ttl_days = 30;
  std::string user_agent; ///< empty = none
  std::string ip_hash;    ///< empty = none
};

class database final : public connection {
public:
  /// Connects to `url`; errc::unavailable when the server cannot be reached.
  static caf::expected<std::unique_ptr<database>> open(const std::string& url);
  ~database() override;

  caf::error ping() override;
  bool broken() const override;

  /// Highest applied migration version (0 when none).
  caf::expected<int> schema_version();

  // -- accounts (SPEC §4.3) ---------------------------------------------------

  /// Inserts a user; errc::conflict when the email is taken.
  caf::expected<user_row> insert_user(const std::string& email, const std::string& password_hash,
                                      const std::string& display_name);
  /// errc::not_found when absent.
  caf::expected<user_row> user_by_email(const std::string& email);
  caf::expected<user_row> user_by_id(const std::string& id);
  caf::error set_password_hash(const std::string& user_id, const std::string& password_hash);

  /// Creates a session and stamps `last_login_at`; returns its expiry.
  caf::expected<int64_t> create_session(const std::string& user_id, const new_session& s,
                                        bool is_login);
  /// errc::not_found when absent.
  caf::expected<session_row> session_by_id(const std::string& sid);
  /// Rotates the refresh secret under a row lock; replaying the previous secret revokes.
  caf::expected<refresh_result> rotate_refresh(const std::string& sid,
                                               const std::string& presented_hash,
                                               const std::string& next_hash);
  /// Marks the session revoked (idempotent: the first reason is kept).
  caf::error revoke_session(const std::string& sid, const std::string& reason);
  /// The user and their active (non-expired) household membership.
  caf::expected<me_row> me(const std::string& user_id);

  struct impl;
  /// For storage/*.cpp only (pg_detail.hpp defines `impl`).
  impl& internals() { return *impl_; }

private:
  explicit database(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Called with each notification type a successful storage call wrote (after its
/// commit), once per notification; set once at start (the metrics counter).
void on_notifications_created(std::function<void(const std::string& type)> observer);

/// An audited change, ids only (the analytics events of SPEC §6 ENABLE_ANALYTICS).
struct audited_action {
  std::string action;
  std::string household_id;
  std::string actor_user_id; ///< empty for the system
  std::string target_user_id;
};

/// Called with each audited change after its transaction committed; set once at start.
void on_audited(std::function<void(const audited_action&)> observer);

} // namespace petcare::storage
