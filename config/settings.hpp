#pragma once
/// Runtime configuration: every variable of SPEC §6, parsed and validated once at start.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace petcare::config {

/// The process environment as name → value (only variables that are set).
using environment = std::map<std::string, std::string>;

enum class app_env { development, test, staging, production };

/// Everything the service reads from its environment, already validated.
struct settings {
  app_env env = app_env::development;
  std::string env_name = "development";
  bool strict = false; ///< staging or production

  std::string database_url = "postgresql://localhost:5432/household_dev";
  int database_pool_min = 2;
  int database_pool_max = 10;
  int database_pool_acquire_timeout_ms = 30000;
  int database_pool_idle_timeout_ms = 30000;

  std::string redis_url = "redis://localhost:6379";
  bool redis_tls_enabled = false;

  int port = 3000;
  std::string host = "0.0.0.0";
  std::string log_level = "debug"; ///< debug|info|warn|error

  std::string jwt_secret;              ///< HMAC key bytes
  bool jwt_secret_generated = false;   ///< random per process (development only)
  std::string encryption_key;          ///< 32 raw bytes (decoded from base64)
  bool encryption_key_generated = false;

  std::vector<std::string> cors_origins{"http://localhost:5173"};

  int64_t rate_limit_window_ms = 900000;
  int64_t rate_limit_max_requests = 100;
  int64_t auth_rate_limit_window_ms = 900000;
  int64_t auth_rate_limit_max_requests = 20;
  int64_t code_lookup_rate_limit_max = 100;

  std::string sentry_dsn;
  std::string sentry_environment;
  std::string datadog_service_name = "household-service";
  std::string datadog_api_key;
  std::string sendgrid_api_key;
  std::string from_email = "noreply@localhost";

  bool enable_analytics = true;
  bool enable_email_invites = true;
  bool enable_push_notifications = true;

  std::string app_version; ///< APP_VERSION or the build's version
  std::string public_app_url = "http://localhost:5173";
  int trust_proxy_hops = 0;
  int64_t http_body_limit_bytes = 16384;
  int64_t request_timeout_ms = 10000;
  int64_t access_token_ttl_seconds = 900;
  int64_t refresh_token_ttl_days = 30;
  uint64_t password_hash_opslimit = 3;
  uint64_t password_hash_memlimit_kib = 65536;
  int64_t household_actor_idle_timeout_ms = 300000;
  int64_t household_actor_mailbox_capacity = 1000;
  int64_t expiry_sweep_interval_ms = 60000;

  std::string email_transport = "log"; ///< smtp|file|log
  std::string smtp_host;
  int smtp_port = 587;
  std::string smtp_username;
  std::string smtp_password;
  std::string smtp_tls = "starttls"; ///< starttls|tls|none
  std::string email_file_dir = "./var/mail";
  int64_t email_invite_ttl_days = 14;
  int64_t email_max_attempts = 8;
  int64_t email_retry_base_ms = 30000;
  int64_t email_retry_max_ms = 3600000;
  int64_t outbox_poll_interval_ms = 5000;
  int64_t notification_retention_days = 90;

  int64_t shutdown_drain_delay_ms = 5000;
  int64_t shutdown_timeout_ms = 20000;
  std::string metrics_token;
  bool auto_migrate = true;
};

/// The outcome of `load`: `problems` empty means `value` is usable.
struct load_result {
  settings value;
  /// One line per problem, naming the variable but never its value, e.g.
  /// "configuration error: JWT_SECRET is missing or weak (need at least 32 random characters)".
  std::vector<std::string> problems;
  /// Lines to log at warn at start (generated secrets, APP_ENV/NODE_ENV conflict).
  std::vector<std::string> warnings;
  /// Lines to log at info at start (ignored variables, SPEC §6).
  std::vector<std::string> notes;
  bool ok() const { return problems.empty(); }
};

/// Parses and validates `env`; never throws.
load_result load(const environment& env);

/// Reads the current process environment.
environment process_environment();

/// `url` with any password replaced by `***`, for logs.
std::string mask_url_password(const std::string& url);

} // namespace petcare::config
