#pragma once
/// One HTTP exchange: what the pipeline learned about the request and the one
/// way to answer it (headers of SPEC §4.1/§9, access log, metrics). Safe to
/// answer from any thread; the first answer wins.

#include <restinio/all.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/runtime.hpp"
#include "http/errors.hpp"

namespace petcare::http {

struct call : std::enable_shared_from_this<call> {
  restinio::request_handle_t req;
  actors::runtime_ptr rt;
  std::string request_id;
  std::string method;
  std::string route = "unmatched"; ///< template, for logs and metrics
  std::string client_ip;
  std::string ip_hash;
  std::string user_id; ///< once authenticated
  std::string sid;
  std::map<std::string, std::string> params; ///< path parameters
  nlohmann::json body = nlohmann::json::object();
  bool body_present = false;
  bool quiet = false; ///< probes log at debug only
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, std::string>> headers; ///< added to the response

  /// 2xx/4xx JSON answer.
  void reply(int status, const nlohmann::json& body);
  /// Answer with a non-JSON body.
  void reply_raw(int status, const std::string& content_type, std::string body);
  /// 204 and friends.
  void reply_empty(int status);
  void fail(const problem& p);
  void fail(const caf::error& err);

  /// Runs before the answer leaves (idempotency stores it first); it must
  /// call `transmit` exactly once. Set by the pipeline, used once.
  std::function<void(int status, const std::string& body, std::function<void()> transmit)> before_send;

  /// For a streamed answer (SSE): marks the exchange answered with 200 (access
  /// log, metrics, no longer in flight); false if it was answered already.
  bool take_over();

  /// Milliseconds left before REQUEST_TIMEOUT_MS.
  std::chrono::milliseconds remaining() const;

private:
  void send(int status, const std::string& content_type, std::string body, const problem* p);
  void transmit(int status, const std::string& content_type, std::string body, const problem* p);
  void finish(int status);
  std::atomic<bool> answered_{false};
};

using call_ptr = std::shared_ptr<call>;

/// Headers every response carries (SPEC §4.1, §9): security, cache, request id, CORS.
std::vector<std::pair<std::string, std::string>> common_headers(const call& c);

/// Requests received and not yet answered (shutdown waits for 0).
std::atomic<int64_t>& in_flight();

/// Reason phrase for a status code.
const char* reason_phrase(int status);

} // namespace petcare::http
