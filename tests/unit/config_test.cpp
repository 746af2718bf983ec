#include "config/settings.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

using petcare::config::app_env;
using petcare::config::environment;
using petcare::config::load;
using petcare::config::load_result;
using petcare::config::mask_url_password;

namespace {

const std::string jwt = "k7Qm2vX9pL4sT8wZ1nB6cR3yH5dF0gJaEeUuIiOo"; // 40 characters
const std::string key_b64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes
const std::string key_raw = "0123456789abcdef0123456789abcdef";

/// A complete, valid production environment; tests break one rule at a time.
environment production() {
  return {
      {"APP_ENV", "production"},
      {"DATABASE_URL", "postgresql://svc:db-pass-123@db.internal:5432/household"},
      {"REDIS_URL", "rediss://:redis-pass-456@cache.internal:6380"},
      {"JWT_SECRET", jwt},
      {"ENCRYPTION_KEY", key_b64},
      {"CORS_ORIGINS", "https://app.example.com"},
      {"PUBLIC_APP_URL", "https://app.example.com"},
      {"EMAIL_TRANSPORT", "smtp"},
      {"SENDGRID_API_KEY", "SG.sendgrid-key-789"},
      {"FROM_EMAIL", "noreply@example.com"},
  };
}

environment with(environment env, const std::string& name, const std::string& value) {
  env[name] = value;
  return env;
}

environment without(environment env, const std::string& name) {
  env.erase(name);
  return env;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

using lines = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(config_tests)

BOOST_AUTO_TEST_CASE(empty_environment_gives_development_defaults) {
  auto r = load({});
  BOOST_TEST_REQUIRE(r.ok());
  const auto& s = r.value;
  BOOST_TEST((s.env == app_env::development));
  BOOST_TEST(s.env_name == "development");
  BOOST_TEST(!s.strict);
  BOOST_TEST(s.database_url == "postgresql://localhost:5432/household_dev");
  BOOST_TEST(s.database_pool_min == 2);
  BOOST_TEST(s.database_pool_max == 10);
  BOOST_TEST(s.redis_url == "redis://localhost:6379");
  BOOST_TEST(!s.redis_tls_enabled);
  BOOST_TEST(s.port == 3000);
  BOOST_TEST(s.host == "0.0.0.0");
  BOOST_TEST(s.log_level == "debug");
  BOOST_TEST(s.cors_origins == lines{"http://localhost:5173"});
  BOOST_TEST(s.public_app_url == "http://localhost:5173");
  BOOST_TEST(s.sentry_environment == "development");
  BOOST_TEST(!s.app_version.empty());
  BOOST_TEST(s.email_transport == "log");
  BOOST_TEST(s.smtp_port == 587);
  BOOST_TEST(s.smtp_tls == "starttls");
  BOOST_TEST(s.password_hash_opslimit == 3u);
  BOOST_TEST(s.password_hash_memlimit_kib == 65536u);
  BOOST_TEST(s.auto_migrate);
  BOOST_TEST(s.enable_email_invites);
}

BOOST_AUTO_TEST_CASE(missing_secrets_are_generated_with_warnings_outside_strict_mode) {
  auto a = load({});
  auto b = load({});
  BOOST_TEST(a.value.jwt_secret_generated);
  BOOST_TEST(a.value.jwt_secret.size() == 64u); // 48 bytes in base64
  BOOST_TEST(a.value.jwt_secret != b.value.jwt_secret);
  BOOST_TEST(a.value.encryption_key_generated);
  BOOST_TEST(a.value.encryption_key.size() == 32u);
  BOOST_TEST(a.value.encryption_key != b.value.encryption_key);
  BOOST_TEST(mentions(a.warnings, "JWT_SECRET"));
  BOOST_TEST(mentions(a.warnings, "ENCRYPTION_KEY"));
}

BOOST_AUTO_TEST_CASE(test_env_logs_at_info_and_explicit_values_win) {
  auto r = load({{"APP_ENV", "test"},
                 {"LOG_LEVEL", "WARN"},
                 {"APP_VERSION", "1.2.0"},
                 {"SENTRY_ENVIRONMENT", "ci"},
                 {"PORT", " 8080 "},
                 {"ENABLE_ANALYTICS", "FALSE"},
                 {"ENABLE_PUSH_NOTIFICATIONS", "0"},
                 {"AUTO_MIGRATE", "False"}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.log_level == "warn");
  BOOST_TEST(load({{"APP_ENV", "test"}}).value.log_level == "info");
  BOOST_TEST(r.value.app_version == "1.2.0");
  BOOST_TEST(r.value.sentry_environment == "ci");
  BOOST_TEST(r.value.port == 8080);
  BOOST_TEST(!r.value.enable_analytics);
  BOOST_TEST(!r.value.enable_push_notifications);
  BOOST_TEST(!r.value.auto_migrate);
}

BOOST_AUTO_TEST_CASE(valid_production_environment_is_accepted) {
  auto r = load(production());
  BOOST_TEST_REQUIRE(r.ok());
  const auto& s = r.value;
  BOOST_TEST((s.env == app_env::production));
  BOOST_TEST(s.strict);
  BOOST_TEST(s.log_level == "info");
  BOOST_TEST(!s.auto_migrate);
  BOOST_TEST(s.redis_tls_enabled); // rediss://
  BOOST_TEST(s.jwt_secret == jwt);
  BOOST_TEST(!s.jwt_secret_generated);
  BOOST_TEST(s.encryption_key == key_raw);
  BOOST_TEST(!s.encryption_key_generated);
  BOOST_TEST(s.sentry_environment == "production");
  BOOST_TEST(r.warnings.empty());
  BOOST_TEST(load(with(production(), "AUTO_MIGRATE", "true")).value.auto_migrate);
  BOOST_TEST(load(with(production(), "APP_ENV", "staging")).value.strict);
}

BOOST_AUTO_TEST_CASE(strict_mode_with_nothing_set_reports_every_problem_at_once) {
  auto r = load({{"APP_ENV", "production"}});
  BOOST_TEST(r.problems == (lines{
      "configuration error: JWT_SECRET is missing or weak (need at least 32 random characters)",
      "configuration error: ENCRYPTION_KEY is missing (need base64 of 32 random bytes)",
      "configuration error: DATABASE_URL must be set explicitly in staging and production",
      "configuration error: REDIS_URL must be set explicitly in staging and production",
      "configuration error: PUBLIC_APP_URL must be an https:// URL in staging and production",
      "configuration error: EMAIL_TRANSPORT must be smtp in staging and production while "
      "ENABLE_EMAIL_INVITES is true",
      "configuration error: FROM_EMAIL must be set explicitly in staging and production while "
      "ENABLE_EMAIL_INVITES is true",
  }), boost::test_tools::per_element());
  BOOST_TEST(!r.value.jwt_secret_generated);
  BOOST_TEST(r.value.jwt_secret.empty());
}

struct strict_case {
  std::string name;
  std::string value; // empty: remove the variable
  std::string problem;
};

BOOST_AUTO_TEST_CASE(each_strict_rule_reports_one_line_without_the_value) {
  const std::string weak_jwt =
      "configuration error: JWT_SECRET is missing or weak (need at least 32 random characters)";
  const std::string bad_key = "configuration error: ENCRYPTION_KEY must be base64 of exactly 32 bytes";
  const std::vector<strict_case> cases = {
      {"JWT_SECRET", "", weak_jwt},
      {"JWT_SECRET", "short-but-random-Q7x", weak_jwt},
      {"JWT_SECRET", "changeme", weak_jwt},
      {"JWT_SECRET", "Secret", weak_jwt},
      {"JWT_SECRET", "<generate with: openssl rand -base64 48>", weak_jwt},
      {"JWT_SECRET", "<GENERATE-A-LONG-RANDOM-STRING-HERE-PLEASE>", weak_jwt},
      {"JWT_SECRET", std::string(48, 'x'), weak_jwt},
      {"JWT_SECRET", "changeme-changeme-changeme-changeme-changeme", weak_jwt},
      {"ENCRYPTION_KEY", "", "configuration error: ENCRYPTION_KEY is missing (need base64 of 32 "
                             "random bytes)"},
      {"ENCRYPTION_KEY", "MDEyMzQ1Njc4OWFiY2RlZg==", bad_key},  // 16 bytes
      {"ENCRYPTION_KEY", "not base64 at all!!", bad_key},
      {"CORS_ORIGINS", "*", "configuration error: CORS_ORIGINS must list exact origins ('*' is "
                            "refused in staging and production)"},
      {"CORS_ORIGINS", "https://app.example.com, *", "configuration error: CORS_ORIGINS must list "
                                                     "exact origins ('*' is refused in staging and "
                                                     "production)"},
      {"PUBLIC_APP_URL", "http://app.example.com", "configuration error: PUBLIC_APP_URL must be an "
                                                   "https:// URL in staging and production"},
      {"SMTP_TLS", "none", "configuration error: SMTP_TLS must be starttls or tls in staging and "
                           "production"},
      {"EMAIL_TRANSPORT", "file", "configuration error: EMAIL_TRANSPORT must be smtp in staging and "
                                  "production while ENABLE_EMAIL_INVITES is true"},
      {"FROM_EMAIL", "", "configuration error: FROM_EMAIL must be set explicitly in staging and "
                         "production while ENABLE_EMAIL_INVITES is true"},
      {"DATABASE_URL", "", "configuration error: DATABASE_URL must be set explicitly in staging and "
                           "production"},
      {"REDIS_URL", "", "configuration error: REDIS_URL must be set explicitly in staging and "
                        "production"},
      {"PASSWORD_HASH_OPSLIMIT", "1", "configuration error: PASSWORD_HASH_OPSLIMIT must be at least 2 "
                                      "in staging and production"},
      {"PASSWORD_HASH_MEMLIMIT_KIB", "19455", "configuration error: PASSWORD_HASH_MEMLIMIT_KIB must "
                                              "be at least 19456 in staging and production"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name << "=" << c.value) {
      auto env = c.value.empty() ? without(production(), c.name) : with(production(), c.name, c.value);
      auto r = load(env);
      BOOST_TEST(r.problems == lines{c.problem}, boost::test_tools::per_element());
      if (c.value.size() >= 6) { // short values ("*", "none") are not secrets and may be quoted
        BOOST_TEST(!mentions(r.problems, c.value));
        BOOST_TEST(!mentions(r.warnings, c.value));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(strict_email_rules_relax_when_invites_are_disabled) {
  auto env = with(without(without(production(), "FROM_EMAIL"), "SENDGRID_API_KEY"),
                  "ENABLE_EMAIL_INVITES", "false");
  env["EMAIL_TRANSPORT"] = "log";
  auto r = load(env);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.value.from_email == "noreply@localhost");
}

BOOST_AUTO_TEST_CASE(problems_and_warnings_never_contain_secret_values) {
  auto env = production();
  env["JWT_SECRET"] = "tiny-jwt-value";
  env["ENCRYPTION_KEY"] = "bogus-key-value";
  env["DATABASE_URL"] = "mysql://user:db-secret-value@host/db";
  env["PORT"] = "port-value-xyz";
  env["SUPABASE_SERVICE_ROLE_KEY"] = "supabase-secret-value";
  auto r = load(env);
  BOOST_TEST(r.problems.size() == 4u);
  for (const std::string v : {"tiny-jwt-value", "bogus-key-value", "db-secret-value",
                              "port-value-xyz", "supabase-secret-value", "SG.sendgrid-key-789"}) {
    BOOST_TEST(!mentions(r.problems, v), v);
    BOOST_TEST(!mentions(r.warnings, v), v);
  }
}

BOOST_AUTO_TEST_CASE(invalid_values_are_problems_in_development_too) {
  auto r = load({{"ENCRYPTION_KEY", "c2hvcnQ="},
                 {"PORT", "0"},
                 {"LOG_LEVEL", "verbose"},
                 {"REDIS_TLS_ENABLED", "yes"},
                 {"APP_ENV", "prod"},
                 {"DATABASE_URL", "mysql://localhost/db"},
                 {"PUBLIC_APP_URL", "ftp://example.com"},
                 {"CORS_ORIGINS", "https://ok.example.com,https://bad.example.com/path"}});
  BOOST_TEST(r.problems == (lines{
      "configuration error: APP_ENV must be one of development, test, staging, production",
      "configuration error: PORT must be an integer from 1 to 65535",
      "configuration error: REDIS_TLS_ENABLED must be true, false, 1 or 0",
      "configuration error: LOG_LEVEL must be one of debug, info, warn, error",
      "configuration error: ENCRYPTION_KEY must be base64 of exactly 32 bytes",
      "configuration error: DATABASE_URL must be a postgresql:// URL",
      "configuration error: PUBLIC_APP_URL must be an http:// or https:// URL",
      "configuration error: CORS_ORIGINS must be comma-separated origins like https://app.example.com",
  }), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_integers_are_rejected) {
  const std::string port = "configuration error: PORT must be an integer from 1 to 65535";
  for (const std::string v : {"abc", "-1", "0", "65536", "80x", "1e3", "+80", "99999999999999999999"}) {
    BOOST_TEST_CONTEXT("PORT=" << v) {
      auto r = load({{"PORT", v}});
      BOOST_TEST(r.problems == lines{port}, boost::test_tools::per_element());
      BOOST_TEST(r.value.port == 3000);
    }
  }
  BOOST_TEST(load({{"PORT", ""}}).value.port == 3000); // empty means unset
  BOOST_TEST(load({{"PORT", "65535"}}).value.port == 65535);

  BOOST_TEST(load({{"DATABASE_POOL_MIN", "0"}}).problems
             == lines{"configuration error: DATABASE_POOL_MIN must be an integer from 1 to 100"},
             boost::test_tools::per_element());
  BOOST_TEST(load({{"DATABASE_POOL_MAX", "101"}}).problems
             == lines{"configuration error: DATABASE_POOL_MAX must be an integer from 1 to 100"},
             boost::test_tools::per_element());
  BOOST_TEST(load({{"DATABASE_POOL_MIN", "5"}, {"DATABASE_POOL_MAX", "4"}}).problems
             == lines{"configuration error: DATABASE_POOL_MIN must not exceed DATABASE_POOL_MAX"},
             boost::test_tools::per_element());
  BOOST_TEST(load({{"EMAIL_RETRY_BASE_MS", "5000"}, {"EMAIL_RETRY_MAX_MS", "4000"}}).problems
             == lines{"configuration error: EMAIL_RETRY_BASE_MS must not exceed EMAIL_RETRY_MAX_MS"},
             boost::test_tools::per_element());
  auto pool = load({{"DATABASE_POOL_MIN", "10"}, {"DATABASE_POOL_MAX", "10"}});
  BOOST_TEST(pool.ok());
  BOOST_TEST(pool.value.database_pool_min == 10);
}

BOOST_AUTO_TEST_CASE(test_setups_may_shrink_ttls_windows_and_intervals) {
  // SPEC §6 sets no floor for these: a black-box suite may use a 2 s token or a
  // half-second window.
  auto r = load({{"ACCESS_TOKEN_TTL_SECONDS", "2"},
                 {"RATE_LIMIT_WINDOW_MS", "500"},
                 {"AUTH_RATE_LIMIT_WINDOW_MS", "250"},
                 {"REQUEST_TIMEOUT_MS", "50"},
                 {"HOUSEHOLD_ACTOR_IDLE_TIMEOUT_MS", "200"},
                 {"EXPIRY_SWEEP_INTERVAL_MS", "50"},
                 {"OUTBOX_POLL_INTERVAL_MS", "50"},
                 {"HTTP_BODY_LIMIT_BYTES", "100"}});
  BOOST_TEST_REQUIRE(r.problems.empty(), (r.problems.empty() ? "" : r.problems.front()));
  BOOST_TEST(r.value.access_token_ttl_seconds == 2);
  BOOST_TEST(r.value.rate_limit_window_ms == 500);
  BOOST_TEST(r.value.auth_rate_limit_window_ms == 250);
  BOOST_TEST(r.value.request_timeout_ms == 50);
  BOOST_TEST(r.value.household_actor_idle_timeout_ms == 200);
  BOOST_TEST(r.value.expiry_sweep_interval_ms == 50);
  BOOST_TEST(r.value.outbox_poll_interval_ms == 50);
  BOOST_TEST(r.value.http_body_limit_bytes == 100);
  BOOST_TEST(load({{"ACCESS_TOKEN_TTL_SECONDS", "0"}}).problems
             == lines{"configuration error: ACCESS_TOKEN_TTL_SECONDS must be an integer from 1 to 86400"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(password_hash_cost_follows_libsodium_minimums_outside_strict_mode) {
  auto r = load({{"PASSWORD_HASH_OPSLIMIT", "1"}, {"PASSWORD_HASH_MEMLIMIT_KIB", "8"}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.password_hash_opslimit == 1u);
  BOOST_TEST(r.value.password_hash_memlimit_kib == 8u);
  BOOST_TEST(load({{"PASSWORD_HASH_MEMLIMIT_KIB", "7"}}).problems
             == lines{"configuration error: PASSWORD_HASH_MEMLIMIT_KIB must be an integer from 8 to "
                      "4194304"},
             boost::test_tools::per_element());
  BOOST_TEST(load({{"PASSWORD_HASH_OPSLIMIT", "0"}}).problems
             == lines{"configuration error: PASSWORD_HASH_OPSLIMIT must be an integer from 1 to 100"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(node_env_is_an_alias_and_app_env_wins_a_conflict) {
  auto alias = load(with(without(production(), "APP_ENV"), "NODE_ENV", "production"));
  BOOST_TEST(alias.ok());
  BOOST_TEST(alias.value.strict);
  BOOST_TEST(alias.value.env_name == "production");

  auto conflict = load({{"APP_ENV", "development"}, {"NODE_ENV", "production"}});
  BOOST_TEST(conflict.ok());
  BOOST_TEST((conflict.value.env == app_env::development));
  BOOST_TEST(mentions(conflict.warnings, "APP_ENV and NODE_ENV"));

  auto same = load({{"APP_ENV", "test"}, {"NODE_ENV", "test"}});
  BOOST_TEST(!mentions(same.warnings, "NODE_ENV"));

  BOOST_TEST(load({{"NODE_ENV", "prod"}}).problems
             == lines{"configuration error: NODE_ENV must be one of development, test, staging, "
                      "production"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sendgrid_key_configures_smtp_when_no_host_is_set) {
  auto r = load({{"SENDGRID_API_KEY", "SG.abc"}, {"EMAIL_TRANSPORT", "smtp"}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.smtp_host == "smtp.sendgrid.net");
  BOOST_TEST(r.value.smtp_port == 587);
  BOOST_TEST(r.value.smtp_tls == "starttls");
  BOOST_TEST(r.value.smtp_username == "apikey");
  BOOST_TEST(r.value.smtp_password == "SG.abc");

  // Explicit SMTP_* values other than the host still win over the SendGrid defaults.
  auto port = load({{"SENDGRID_API_KEY", "SG.abc"}, {"SMTP_PORT", "2525"}});
  BOOST_TEST(port.value.smtp_host == "smtp.sendgrid.net");
  BOOST_TEST(port.value.smtp_port == 2525);
  BOOST_TEST(port.value.smtp_password == "SG.abc");

  auto own = load({{"SENDGRID_API_KEY", "SG.abc"},
                   {"SMTP_HOST", "mail.example.com"},
                   {"SMTP_PORT", "465"},
                   {"SMTP_TLS", "tls"},
                   {"SMTP_USERNAME", "u"},
                   {"SMTP_PASSWORD", "p"}});
  BOOST_TEST(own.value.smtp_host == "mail.example.com");
  BOOST_TEST(own.value.smtp_port == 465);
  BOOST_TEST(own.value.smtp_tls == "tls");
  BOOST_TEST(own.value.smtp_username == "u");
  BOOST_TEST(own.value.smtp_password == "p");

  BOOST_TEST(load({{"EMAIL_TRANSPORT", "smtp"}}).problems
             == lines{"configuration error: SMTP_HOST must be set when EMAIL_TRANSPORT is smtp (or "
                      "set SENDGRID_API_KEY)"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(encryption_key_accepts_base64_with_or_without_padding) {
  BOOST_TEST(load({{"ENCRYPTION_KEY", key_b64}}).value.encryption_key == key_raw);
  auto unpadded = key_b64.substr(0, key_b64.size() - 1);
  auto r = load({{"ENCRYPTION_KEY", unpadded}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.encryption_key == key_raw);
  BOOST_TEST(!r.value.encryption_key_generated);
  BOOST_TEST(!load({{"ENCRYPTION_KEY", key_b64 + "AAAA"}}).ok()); // 35 bytes
}

BOOST_AUTO_TEST_CASE(weak_jwt_secret_is_accepted_with_a_warning_in_development) {
  auto r = load({{"JWT_SECRET", "dev"}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.jwt_secret == "dev");
  BOOST_TEST(!r.value.jwt_secret_generated);
  BOOST_TEST(mentions(r.warnings, "JWT_SECRET is weak"));
}

BOOST_AUTO_TEST_CASE(cors_origins_are_trimmed_and_empty_entries_dropped) {
  auto r = load({{"CORS_ORIGINS", " https://a.example.com ,, http://localhost:3000 ,"}});
  BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(r.value.cors_origins == (lines{"https://a.example.com", "http://localhost:3000"}),
             boost::test_tools::per_element());
  BOOST_TEST(load({{"CORS_ORIGINS", "*"}}).ok()); // allowed outside strict mode
}

BOOST_AUTO_TEST_CASE(redis_tls_follows_the_scheme_or_the_flag) {
  BOOST_TEST(load({{"REDIS_URL", "rediss://cache:6380"}}).value.redis_tls_enabled);
  BOOST_TEST(load({{"REDIS_TLS_ENABLED", "1"}}).value.redis_tls_enabled);
  BOOST_TEST(!load({{"REDIS_URL", "redis://cache:6379"}}).value.redis_tls_enabled);
  BOOST_TEST(load({{"REDIS_URL", "http://cache"}}).problems
             == lines{"configuration error: REDIS_URL must be a redis:// or rediss:// URL"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(supabase_variables_are_ignored_with_one_note) {
  auto r = load({{"SUPABASE_URL", "https://x.supabase.co"}, {"SUPABASE_ANON_KEY", "anon"}});
  BOOST_TEST(r.ok());
  BOOST_TEST(std::count_if(r.notes.begin(), r.notes.end(), [](const std::string& w) {
               return w.find("SUPABASE") != std::string::npos;
             }) == 1);
  BOOST_TEST(!mentions(r.warnings, "SUPABASE")); // a note at info, not a warning
  BOOST_TEST(!mentions(load({}).notes, "SUPABASE"));
}

BOOST_AUTO_TEST_CASE(public_app_url_loses_trailing_slashes) {
  BOOST_TEST(load({{"PUBLIC_APP_URL", "https://app.example.com/"}}).value.public_app_url
             == "https://app.example.com");
}

BOOST_AUTO_TEST_CASE(mask_url_password_hides_only_the_password) {
  BOOST_TEST(mask_url_password("postgresql://u:pw@h/db") == "postgresql://u:***@h/db");
  BOOST_TEST(mask_url_password("postgresql://u:p%40w@h:5432/db?sslmode=require")
             == "postgresql://u:***@h:5432/db?sslmode=require");
  BOOST_TEST(mask_url_password("redis://:secret@cache:6379") == "redis://:***@cache:6379");
  BOOST_TEST(mask_url_password("postgresql://u@h/db") == "postgresql://u@h/db");
  BOOST_TEST(mask_url_password("postgresql://localhost:5432/household_dev")
             == "postgresql://localhost:5432/household_dev");
  BOOST_TEST(mask_url_password("postgresql://h/db?user=u&password=pw&sslmode=require")
             == "postgresql://h/db?user=u&password=***&sslmode=require");
  BOOST_TEST(mask_url_password("postgresql://h/db?x=a@b:c") == "postgresql://h/db?x=a@b:c");
  BOOST_TEST(mask_url_password("") == "");
}

BOOST_AUTO_TEST_CASE(process_environment_reads_environ) {
  ::setenv("PETCARE_CONFIG_TEST_VAR", "a=b", 1);
  auto env = petcare::config::process_environment();
  ::unsetenv("PETCARE_CONFIG_TEST_VAR");
  BOOST_TEST_REQUIRE(env.count("PETCARE_CONFIG_TEST_VAR") == 1u);
  BOOST_TEST(env.at("PETCARE_CONFIG_TEST_VAR") == "a=b");
}

BOOST_AUTO_TEST_SUITE_END()
