#pragma once
/// JSON log lines on stdout (SPEC §9): one object per line with `ts`, `level`,
/// `event`, `service`, `env`, `version` and the caller's fields.

#include <nlohmann/json.hpp>

#include <string>

namespace petcare::config {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

/// Sets the threshold and the fields every line carries; call once at start.
void init_log(const std::string& level, const std::string& service, const std::string& env,
              const std::string& version);

bool log_enabled(log_level level);

/// Writes `{"ts":…,"level":…,"event":event,…fields}`; thread-safe, one write per line.
void log(log_level level, const std::string& event, nlohmann::json fields = nlohmann::json::object());

/// "user@example.com" → "example.com" (emails appear as their domain only).
std::string email_domain(const std::string& email);

} // namespace petcare::config
