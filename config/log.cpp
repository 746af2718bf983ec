#include "config/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace petcare::config {

namespace {

std::atomic<int> threshold{static_cast<int>(log_level::info)};
nlohmann::json common = nlohmann::json::object();

const char* name_of(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

std::string now_iso() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

} // namespace

void init_log(const std::string& level, const std::string& service, const std::string& env,
              const std::string& version) {
  log_level l = log_level::info;
  if (level == "debug")
    l = log_level::debug;
  else if (level == "warn")
    l = log_level::warn;
  else if (level == "error")
    l = log_level::error;
  threshold = static_cast<int>(l);
  common = {{"service", service}, {"env", env}, {"version", version}};
}

bool log_enabled(log_level level) {
  return static_cast<int>(level) >= threshold.load();
}

void log(log_level level, const std::string& event, nlohmann::json fields) {
  if (!log_enabled(level))
    return;
  nlohmann::json line = {{"ts", now_iso()}, {"level", name_of(level)}, {"event", event}};
  for (auto& [k, v] : common.items())
    line[k] = v;
  if (fields.is_object())
    for (auto& [k, v] : fields.items())
      line[k] = v;
  auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
  // One write(2) per line keeps lines whole when threads log at once.
  auto rc = ::write(STDOUT_FILENO, text.data(), text.size());
  (void)rc;
}

std::string email_domain(const std::string& email) {
  auto at = email.rfind('@');
  return at == std::string::npos ? std::string{} : email.substr(at + 1);
}

} // namespace petcare::config
