/// The HTTP side of webhooks (SPEC §4.5): URL rules, destination checks,
/// the signature header and the blocking POST that runs on a detached worker.

#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "actors/messages.hpp"
#include "actors/webhooks.hpp"
#include "storage/crypto.hpp"

namespace petcare::actors::webhook {

namespace {

constexpr size_t max_url = 2048;
constexpr long timeout_ms = 5000;
constexpr auto resolve_timeout = std::chrono::seconds{5};

void curl_ready() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// A CURLU part, "" when absent.
std::string url_part(CURLU* u, CURLUPart what) {
  char* part = nullptr;
  if (curl_url_get(u, what, &part, 0) != CURLUE_OK || part == nullptr)
    return {};
  std::string out{part};
  curl_free(part);
  return out;
}

/// The host of an acceptable URL, without IPv6 brackets.
std::string host_of(const std::string& url) {
  curl_ready();
  CURLU* u = curl_url();
  std::string host;
  if (u != nullptr && curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK)
    host = url_part(u, CURLUPART_HOST);
  curl_url_cleanup(u);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

bool internal_v4(uint32_t a) { // host byte order
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8)      // "this network", 0.0.0.0
         || in(0x0A000000, 8)   // 10/8
         || in(0x64400000, 10)  // 100.64/10 shared address space
         || in(0x7F000000, 8)   // loopback
         || in(0xA9FE0000, 16)  // link-local
         || in(0xAC100000, 12)  // 172.16/12
         || in(0xC0000000, 24)  // 192.0.0/24 protocol assignments
         || in(0xC0A80000, 16)  // 192.168/16
         || in(0xC6120000, 15)  // 198.18/15 benchmarking
         || a >= 0xE0000000;    // multicast, reserved, broadcast
}

/// CURLOPT_OPENSOCKETFUNCTION in strict mode: no connection to an internal
/// address, whatever the name resolved to at registration (DNS rebinding).
curl_socket_t guarded_socket(void* blocked, curlsocktype, curl_sockaddr* address) {
  if (is_internal_address(&address->addr)) {
    *static_cast<bool*>(blocked) = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

/// Blocking getaddrinfo; the VALIDATION_ERROR message or "".
std::string resolve_problem(const std::string& url) {
  auto host = host_of(url);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (host.empty() || ::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
    return "url host cannot be resolved.";
  std::string problem;
  for (auto* a = found; a != nullptr && problem.empty(); a = a->ai_next)
    if (is_internal_address(a->ai_addr))
      problem = "url must not resolve to a loopback, link-local or private address.";
  ::freeaddrinfo(found);
  return problem;
}

} // namespace

std::string url_problem(const std::string& url, bool strict) {
  if (url.empty())
    return "url is required.";
  if (url.size() > max_url)
    return "url must be 2048 characters or less.";
  for (unsigned char ch : url)
    if (ch <= 0x20 || ch >= 0x7F)
      return "url must not contain spaces, control or non-ASCII characters.";
  std::string lower;
  for (unsigned char ch : url.substr(0, 8))
    lower += static_cast<char>(std::tolower(ch));
  bool https = lower.rfind("https://", 0) == 0;
  bool http = lower.rfind("http://", 0) == 0;
  if (strict && !https)
    return "url must be an https:// URL.";
  if (!https && !http)
    return "url must be an http:// or https:// URL.";
  // No credentials: checked on the raw authority too, so no parser can see one the other missed.
  auto start = url.find("://") + 3;
  auto authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (authority.find('@') != std::string::npos)
    return "url must not contain credentials.";
  curl_ready();
  CURLU* u = curl_url();
  if (u == nullptr)
    return "url is not a valid URL.";
  std::string problem;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    problem = "url is not a valid URL.";
  else if (!url_part(u, CURLUPART_USER).empty() || !url_part(u, CURLUPART_PASSWORD).empty())
    problem = "url must not contain credentials.";
  else if (url_part(u, CURLUPART_HOST).empty())
    problem = "url must name a host.";
  curl_url_cleanup(u);
  return problem;
}

std::string normalized_url(const std::string& url) {
  auto out = url;
  auto end = std::min(out.find("://"), out.size());
  for (size_t i = 0; i < end; ++i)
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

bool is_internal_address(const sockaddr* a) {
  if (a == nullptr)
    return true;
  if (a->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(a);
    return internal_v4(ntohl(v4->sin_addr.s_addr));
  }
  if (a->sa_family != AF_INET6)
    return true;
  const auto* b = reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr.s6_addr;
  static const unsigned char zeros[16] = {0};
  if (std::memcmp(b, zeros, 10) == 0 && b[10] == 0xff && b[11] == 0xff) // ::ffff:a.b.c.d
    return internal_v4((uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15]);
  if (std::memcmp(b, zeros, 15) == 0 && (b[15] == 0 || b[15] == 1)) // :: and ::1
    return true;
  return (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)   // fe80::/10 link-local
         || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) // fec0::/10 site-local
         || (b[0] & 0xfe) == 0xfc                   // fc00::/7 unique local
         || b[0] == 0xff;                           // multicast
}

void check_destination(caf::event_based_actor* self, const std::string& url, callback<std::string> done) {
  // getaddrinfo blocks: a thread of its own, for one answer (registrations are rare).
  auto worker = self->spawn<caf::detached>([url](caf::event_based_actor* w) -> caf::behavior {
    return {[w, url](atom::get) {
      auto problem = resolve_problem(url);
      w->quit();
      return problem;
    }};
  });
  self->request(worker, resolve_timeout, atom::get_v)
    .then([done](std::string& problem) { done(std::move(problem)); },
          [done](caf::error&) { done(std::string{"url host cannot be resolved."}); });
}

std::string signature(const std::string& secret, int64_t unix_seconds, const std::string& body) {
  auto t = std::to_string(unix_seconds);
  return "t=" + t + ",v1=" + storage::crypto::hex(storage::crypto::hmac_sha256(secret, t + "." + body));
}

outcome post(const storage::webhooks::delivery& d, bool strict, int64_t unix_seconds) {
  if (!d.readable)
    return {false, std::nullopt, "cannot open the webhook secret (ENCRYPTION_KEY changed?)", true};
  curl_ready();
  CURL* h = curl_easy_init();
  if (h == nullptr)
    return {false, std::nullopt, "network: cannot initialise libcurl", false};
  curl_slist* headers = nullptr;
  for (const auto& line : {std::string{"Content-Type: application/json"},
                           "X-Household-Event: " + d.event,
                           "X-Household-Delivery: " + d.id,
                           "X-Household-Signature: " + signature(d.secret, unix_seconds, d.body),
                           std::string{"User-Agent: household-service-webhooks"},
                           std::string{"Expect:"}}) // no 100-continue round trip
    headers = curl_slist_append(headers, line.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  bool blocked = false;
  curl_easy_setopt(h, CURLOPT_URL, d.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, d.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(d.body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (strict) {
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guarded_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &blocked);
  }
  auto rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  std::string reason = errbuf[0] != '\0' ? std::string{errbuf} : std::string{curl_easy_strerror(rc)};
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  std::optional<int> status;
  if (code >= 100 && code <= 599)
    status = static_cast<int>(code);
  if (rc == CURLE_OK && code >= 200 && code < 300)
    return {true, status, {}, false};
  if (rc == CURLE_OK)
    return {false, status, "HTTP " + std::to_string(code), false};
  if (blocked)
    return {false, status, "network: destination address not allowed", false};
  return {false, status, "network: " + reason.substr(0, 120), false};
}

} // namespace petcare::actors::webhook
