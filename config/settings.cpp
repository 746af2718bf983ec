#include "config/settings.hpp"

#include <sodium.h>
#include <unistd.h> // environ

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <set>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#ifndef PETCARE_VERSION
#define PETCARE_VERSION "0.0.0-dev"
#endif

namespace petcare::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// Reads variables and records problems; at most one problem per variable so a
/// bad value is not reported again by the rules that depend on it.
class reader {
public:
  reader(const environment& env, load_result& out) : env_(env), out_(out) {}

  /// The value of `name`; unset and empty are the same (`VAR=` in a compose file means "unset").
  std::optional<std::string> get(std::string_view name) const {
    auto it = env_.find(std::string(name));
    if (it == env_.end() || it->second.empty())
      return std::nullopt;
    return it->second;
  }

  /// Records "configuration error: NAME what"; never include the value in `what`.
  void problem(std::string_view name, std::string_view what) {
    if (!failed_.emplace(name).second)
      return;
    out_.problems.push_back("configuration error: " + std::string(name) + " " + std::string(what));
  }

  bool failed(std::string_view name) const { return failed_.count(std::string(name)) > 0; }

  void warn(std::string line) { out_.warnings.push_back(std::move(line)); }
  void note(std::string line) { out_.notes.push_back(std::move(line)); }

private:
  const environment& env_;
  load_result& out_;
  std::set<std::string, std::less<>> failed_;
};

// ---- tables -----------------------------------------------------------------

using int_field = std::variant<int settings::*, int64_t settings::*, uint64_t settings::*>;

/// An integer variable and the range it must fall in, in every mode.
struct int_rule {
  const char* name;
  int_field field;
  int64_t min;
  int64_t max;
};

constexpr int64_t hour_ms = 3'600'000;
constexpr int64_t day_ms = 24 * hour_ms;

// Ranges are sanity bounds in every mode; the floors are low on purpose: test
// setups shrink TTLs, windows and intervals (SPEC §6 sets no minimum for them).
const int_rule int_rules[] = {
    {"DATABASE_POOL_MIN", &settings::database_pool_min, 1, 100},
    {"DATABASE_POOL_MAX", &settings::database_pool_max, 1, 100},
    {"DATABASE_POOL_ACQUIRE_TIMEOUT_MS", &settings::database_pool_acquire_timeout_ms, 1, 600'000},
    {"DATABASE_POOL_IDLE_TIMEOUT_MS", &settings::database_pool_idle_timeout_ms, 1, day_ms},
    {"PORT", &settings::port, 1, 65535},
    {"RATE_LIMIT_WINDOW_MS", &settings::rate_limit_window_ms, 1, 7 * day_ms},
    {"RATE_LIMIT_MAX_REQUESTS", &settings::rate_limit_max_requests, 1, 1'000'000'000},
    {"AUTH_RATE_LIMIT_WINDOW_MS", &settings::auth_rate_limit_window_ms, 1, 7 * day_ms},
    {"AUTH_RATE_LIMIT_MAX_REQUESTS", &settings::auth_rate_limit_max_requests, 1, 1'000'000'000},
    {"CODE_LOOKUP_RATE_LIMIT_MAX", &settings::code_lookup_rate_limit_max, 1, 1'000'000'000},
    {"TRUST_PROXY_HOPS", &settings::trust_proxy_hops, 0, 32},
    {"HTTP_BODY_LIMIT_BYTES", &settings::http_body_limit_bytes, 2, 64LL * 1024 * 1024},
    {"REQUEST_TIMEOUT_MS", &settings::request_timeout_ms, 1, 600'000},
    {"ACCESS_TOKEN_TTL_SECONDS", &settings::access_token_ttl_seconds, 1, 86'400},
    {"REFRESH_TOKEN_TTL_DAYS", &settings::refresh_token_ttl_days, 1, 365},
    // libsodium's argon2id minimums: opslimit 1, memlimit 8192 bytes; 4 GiB is a sanity cap.
    {"PASSWORD_HASH_OPSLIMIT", &settings::password_hash_opslimit, 1, 100},
    {"PASSWORD_HASH_MEMLIMIT_KIB", &settings::password_hash_memlimit_kib, 8, 4LL * 1024 * 1024},
    {"HOUSEHOLD_ACTOR_IDLE_TIMEOUT_MS", &settings::household_actor_idle_timeout_ms, 1, day_ms},
    {"HOUSEHOLD_ACTOR_MAILBOX_CAPACITY", &settings::household_actor_mailbox_capacity, 1, 1'000'000},
    {"EXPIRY_SWEEP_INTERVAL_MS", &settings::expiry_sweep_interval_ms, 10, day_ms},
    {"SMTP_PORT", &settings::smtp_port, 1, 65535},
    {"EMAIL_INVITE_TTL_DAYS", &settings::email_invite_ttl_days, 1, 365},
    {"EMAIL_MAX_ATTEMPTS", &settings::email_max_attempts, 1, 100},
    {"EMAIL_RETRY_BASE_MS", &settings::email_retry_base_ms, 1, day_ms},
    {"EMAIL_RETRY_MAX_MS", &settings::email_retry_max_ms, 1, 7 * day_ms},
    {"OUTBOX_POLL_INTERVAL_MS", &settings::outbox_poll_interval_ms, 10, hour_ms},
    {"NOTIFICATION_RETENTION_DAYS", &settings::notification_retention_days, 1, 3650},
    {"SHUTDOWN_DRAIN_DELAY_MS", &settings::shutdown_drain_delay_ms, 0, 120'000},
    {"SHUTDOWN_TIMEOUT_MS", &settings::shutdown_timeout_ms, 0, 300'000},
};

const std::pair<const char*, bool settings::*> bool_rules[] = {
    {"REDIS_TLS_ENABLED", &settings::redis_tls_enabled},
    {"ENABLE_ANALYTICS", &settings::enable_analytics},
    {"ENABLE_EMAIL_INVITES", &settings::enable_email_invites},
    {"ENABLE_PUSH_NOTIFICATIONS", &settings::enable_push_notifications},
    {"AUTO_MIGRATE", &settings::auto_migrate},
};

/// Taken verbatim when set (secrets keep their exact bytes); checked by the rules below.
const std::pair<const char*, std::string settings::*> string_rules[] = {
    {"DATABASE_URL", &settings::database_url},
    {"REDIS_URL", &settings::redis_url},
    {"HOST", &settings::host},
    {"SENTRY_DSN", &settings::sentry_dsn},
    {"SENTRY_ENVIRONMENT", &settings::sentry_environment},
    {"DATADOG_SERVICE_NAME", &settings::datadog_service_name},
    {"DATADOG_API_KEY", &settings::datadog_api_key},
    {"SENDGRID_API_KEY", &settings::sendgrid_api_key},
    {"FROM_EMAIL", &settings::from_email},
    {"APP_VERSION", &settings::app_version},
    {"PUBLIC_APP_URL", &settings::public_app_url},
    {"SMTP_HOST", &settings::smtp_host},
    {"SMTP_USERNAME", &settings::smtp_username},
    {"SMTP_PASSWORD", &settings::smtp_password},
    {"EMAIL_FILE_DIR", &settings::email_file_dir},
    {"METRICS_TOKEN", &settings::metrics_token},
};

/// A word from a fixed list (matched case-insensitively, stored in lower case).
struct choice_rule {
  const char* name;
  std::string settings::*field;
  std::vector<std::string_view> allowed;
};

const choice_rule choice_rules[] = {
    {"LOG_LEVEL", &settings::log_level, {"debug", "info", "warn", "error"}},
    {"EMAIL_TRANSPORT", &settings::email_transport, {"smtp", "file", "log"}},
    {"SMTP_TLS", &settings::smtp_tls, {"starttls", "tls", "none"}},
};

void read_tables(reader& r, settings& s) {
  for (const auto& rule : int_rules) {
    auto raw = r.get(rule.name);
    if (!raw)
      continue;
    const auto text = trim(*raw);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < rule.min
        || v > rule.max) {
      r.problem(rule.name, "must be an integer from " + std::to_string(rule.min) + " to "
                               + std::to_string(rule.max));
      continue;
    }
    std::visit([&](auto member) { s.*member = static_cast<std::decay_t<decltype(s.*member)>>(v); },
               rule.field);
  }
  for (const auto& [name, member] : bool_rules) {
    auto raw = r.get(name);
    if (!raw)
      continue;
    const auto v = lower(trim(*raw));
    if (v == "true" || v == "1")
      s.*member = true;
    else if (v == "false" || v == "0")
      s.*member = false;
    else
      r.problem(name, "must be true, false, 1 or 0");
  }
  for (const auto& [name, member] : string_rules)
    if (auto raw = r.get(name))
      s.*member = *raw;
  for (const auto& rule : choice_rules) {
    auto raw = r.get(rule.name);
    if (!raw)
      continue;
    const auto v = lower(trim(*raw));
    const bool known = std::any_of(rule.allowed.begin(), rule.allowed.end(),
                                   [&](std::string_view a) { return v == a; });
    if (known) {
      s.*rule.field = v;
      continue;
    }
    std::string what = "must be one of";
    for (auto a : rule.allowed)
      what += (a == rule.allowed.front() ? " " : ", ") + std::string(a);
    r.problem(rule.name, what);
  }
}

// ---- individual rules -------------------------------------------------------

void read_app_env(reader& r, settings& s) {
  const auto app = r.get("APP_ENV");
  const auto node = r.get("NODE_ENV");
  if (!app && !node)
    return; // development
  const auto name = lower(trim(app ? *app : *node));
  if (app && node && lower(trim(*node)) != name)
    r.warn("APP_ENV and NODE_ENV are both set and differ; APP_ENV wins");
  static const std::pair<const char*, app_env> known[] = {
      {"development", app_env::development},
      {"test", app_env::test},
      {"staging", app_env::staging},
      {"production", app_env::production},
  };
  for (const auto& [text, value] : known) {
    if (name == text) {
      s.env = value;
      s.env_name = name;
      s.strict = value == app_env::staging || value == app_env::production;
      return;
    }
  }
  // Validation goes on with development rules; the problem alone stops the start.
  r.problem(app ? "APP_ENV" : "NODE_ENV", "must be one of development, test, staging, production");
}

/// `bytes` random bytes as standard base64.
std::string random_base64(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(raw.data(), raw.size());
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

/// Decodes standard base64 with or without `=` padding; nothing unless exactly 32 bytes.
std::optional<std::string> decode_key(std::string_view text) {
  text = trim(text);
  for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i)
    text.remove_suffix(1);
  unsigned char bin[64];
  size_t len = 0;
  const int rc = sodium_base642bin(bin, sizeof bin, text.data(), text.size(), nullptr, &len,
                                   nullptr, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  std::optional<std::string> key;
  if (rc == 0 && len == crypto_secretbox_KEYBYTES)
    key.emplace(reinterpret_cast<const char*>(bin), len);
  sodium_memzero(bin, sizeof bin);
  return key;
}

/// Too short, one repeated character, or a placeholder copied from an example file
/// (placeholders are caught even when long enough).
bool weak_jwt_secret(const std::string& secret) {
  const auto l = lower(secret);
  const bool one_char = std::all_of(secret.begin(), secret.end(),
                                    [&](char c) { return c == secret.front(); });
  bool placeholder = l == "changeme" || l == "secret" || starts_with(l, "<generate");
  for (const char* marker : {"changeme", "change-me", "change_me", "your-super-secret", "your-secret"})
    placeholder = placeholder || l.find(marker) != std::string::npos;
  return secret.size() < 32 || one_char || placeholder;
}

void read_secrets(reader& r, settings& s) {
  const char* weak = "is missing or weak (need at least 32 random characters)";
  if (auto secret = r.get("JWT_SECRET")) {
    if (!weak_jwt_secret(*secret))
      s.jwt_secret = *secret;
    else if (s.strict)
      r.problem("JWT_SECRET", weak);
    else {
      s.jwt_secret = *secret;
      r.warn("JWT_SECRET is weak; accepted only outside staging and production");
    }
  } else if (s.strict) {
    r.problem("JWT_SECRET", weak);
  } else {
    s.jwt_secret = random_base64(48);
    s.jwt_secret_generated = true;
    r.warn("JWT_SECRET is not set; using a random per-process secret (tokens end with the process)");
  }

  if (auto text = r.get("ENCRYPTION_KEY")) {
    if (auto key = decode_key(*text))
      s.encryption_key = std::move(*key);
    else
      r.problem("ENCRYPTION_KEY", "must be base64 of exactly 32 bytes");
  } else if (s.strict) {
    r.problem("ENCRYPTION_KEY", "is missing (need base64 of 32 random bytes)");
  } else {
    s.encryption_key.assign(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(s.encryption_key.data(), s.encryption_key.size());
    s.encryption_key_generated = true;
    r.warn("ENCRYPTION_KEY is not set; using a random per-process key (queued emails and IP "
           "hashes do not survive a restart)");
  }
}

void read_urls(reader& r, settings& s) {
  for (const char* name : {"DATABASE_URL", "REDIS_URL"})
    if (s.strict && !r.get(name))
      r.problem(name, "must be set explicitly in staging and production");
  if (!starts_with(s.database_url, "postgresql://") && !starts_with(s.database_url, "postgres://"))
    r.problem("DATABASE_URL", "must be a postgresql:// URL");
  if (starts_with(s.redis_url, "rediss://"))
    s.redis_tls_enabled = true;
  else if (!starts_with(s.redis_url, "redis://"))
    r.problem("REDIS_URL", "must be a redis:// or rediss:// URL");

  auto& app = s.public_app_url;
  while (app.size() > 1 && app.back() == '/') // join links append "/join/…"
    app.pop_back();
  const bool https = starts_with(app, "https://") && app.size() > 8;
  const bool http = starts_with(app, "http://") && app.size() > 7;
  if (s.strict && !https)
    r.problem("PUBLIC_APP_URL", "must be an https:// URL in staging and production");
  else if (!https && !http)
    r.problem("PUBLIC_APP_URL", "must be an http:// or https:// URL");
}

void read_cors(reader& r, settings& s) {
  auto raw = r.get("CORS_ORIGINS");
  if (!raw)
    return;
  s.cors_origins.clear();
  const std::string_view list = *raw;
  for (size_t pos = 0;;) {
    const auto comma = list.find(',', pos);
    const auto entry = trim(list.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
    if (!entry.empty())
      s.cors_origins.emplace_back(entry);
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  const auto is_origin = [](std::string_view o) {
    const auto host = starts_with(o, "https://") ? o.substr(8)
                      : starts_with(o, "http://") ? o.substr(7)
                                                  : std::string_view{};
    return !host.empty() && host.find_first_of("/?# \t") == std::string_view::npos;
  };
  for (const auto& origin : s.cors_origins) {
    if (origin == "*" && s.strict)
      r.problem("CORS_ORIGINS", "must list exact origins ('*' is refused in staging and production)");
    else if (origin != "*" && !is_origin(origin))
      r.problem("CORS_ORIGINS", "must be comma-separated origins like https://app.example.com");
  }
}

void read_email(reader& r, settings& s) {
  // SendGrid's relay unless SMTP_HOST names another; other SMTP_* set explicitly still win.
  if (!s.sendgrid_api_key.empty() && s.smtp_host.empty()) {
    s.smtp_host = "smtp.sendgrid.net";
    if (!r.get("SMTP_PORT"))
      s.smtp_port = 587;
    if (!r.get("SMTP_TLS"))
      s.smtp_tls = "starttls";
    if (!r.get("SMTP_USERNAME"))
      s.smtp_username = "apikey";
    if (!r.get("SMTP_PASSWORD"))
      s.smtp_password = s.sendgrid_api_key;
  }
  if (s.email_transport == "smtp" && s.smtp_host.empty())
    r.problem("SMTP_HOST", "must be set when EMAIL_TRANSPORT is smtp (or set SENDGRID_API_KEY)");
  if (s.strict && s.smtp_tls == "none")
    r.problem("SMTP_TLS", "must be starttls or tls in staging and production");
  if (s.strict && s.enable_email_invites) {
    if (s.email_transport != "smtp")
      r.problem("EMAIL_TRANSPORT",
                "must be smtp in staging and production while ENABLE_EMAIL_INVITES is true");
    if (!r.get("FROM_EMAIL"))
      r.problem("FROM_EMAIL", "must be set explicitly in staging and production while "
                              "ENABLE_EMAIL_INVITES is true");
  }
  if (s.from_email.find('@') == std::string::npos
      || s.from_email.find_first_of("\r\n") != std::string::npos)
    r.problem("FROM_EMAIL", "must be an email address");
}

void check_relations(reader& r, settings& s) {
  const auto both_ok = [&](const char* a, const char* b) { return !r.failed(a) && !r.failed(b); };
  if (both_ok("DATABASE_POOL_MIN", "DATABASE_POOL_MAX")
      && s.database_pool_min > s.database_pool_max)
    r.problem("DATABASE_POOL_MIN", "must not exceed DATABASE_POOL_MAX");
  if (both_ok("EMAIL_RETRY_BASE_MS", "EMAIL_RETRY_MAX_MS")
      && s.email_retry_base_ms > s.email_retry_max_ms)
    r.problem("EMAIL_RETRY_BASE_MS", "must not exceed EMAIL_RETRY_MAX_MS");
  if (s.strict && s.password_hash_opslimit < 2)
    r.problem("PASSWORD_HASH_OPSLIMIT", "must be at least 2 in staging and production");
  if (s.strict && s.password_hash_memlimit_kib < 19456)
    r.problem("PASSWORD_HASH_MEMLIMIT_KIB", "must be at least 19456 in staging and production");

  std::string ignored;
  for (const char* name : {"SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY"})
    if (r.get(name))
      ignored += (ignored.empty() ? "" : ", ") + std::string(name);
  if (!ignored.empty())
    r.note(ignored + " ignored (the service owns authentication)");
}

} // namespace

load_result load(const environment& env) {
  load_result out;
  settings& s = out.value;
  reader r(env, out);
  if (sodium_init() < 0) {
    out.problems.emplace_back("configuration error: libsodium could not be initialised");
    return out;
  }
  try {
    read_app_env(r, s);
    // Defaults that depend on the mode; explicit values override them in read_tables.
    s.log_level = s.env == app_env::development ? "debug" : "info";
    s.auto_migrate = !s.strict;
    s.sentry_environment = s.env_name;
    s.app_version = PETCARE_VERSION;
    read_tables(r, s);
    read_secrets(r, s);
    read_urls(r, s);
    read_cors(r, s);
    read_email(r, s);
    check_relations(r, s);
  } catch (const std::exception&) { // only std::bad_alloc is possible
    out.problems.emplace_back("configuration error: out of memory while reading the environment");
  }
  return out;
}

environment process_environment() {
  environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    const auto eq = text.find('=');
    if (eq != std::string_view::npos)
      env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

std::string mask_url_password(const std::string& url) {
  std::string out = url;
  const auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    // RFC 3986: the authority ends at the first '/', '?' or '#'; userinfo ends at its last '@'.
    const auto start = scheme_end + 3;
    const auto authority_end = std::min(out.find_first_of("/?#", start), out.size());
    const auto at = out.rfind('@', authority_end - 1);
    if (at != std::string::npos && at >= start) {
      const auto colon = out.find(':', start);
      if (colon < at && colon + 1 < at)
        out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // libpq also takes `?password=…` in the query string.
  for (auto pos = out.find("password="); pos != std::string::npos;
       pos = out.find("password=", pos + 1)) {
    if (pos == 0 || (out[pos - 1] != '?' && out[pos - 1] != '&'))
      continue;
    const auto value = pos + 9;
    const auto end = std::min(out.find_first_of("&#", value), out.size());
    if (end > value)
      out.replace(value, end - value, "***");
  }
  return out;
}

} // namespace petcare::config
