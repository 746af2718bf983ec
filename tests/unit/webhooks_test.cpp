#include "actors/webhooks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

#include "storage/webhooks.hpp"

using namespace petcare::actors;
namespace wh = petcare::actors::webhook;
using nlohmann::json;

namespace {

bool internal(const std::string& ip) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return wh::is_internal_address(reinterpret_cast<const sockaddr*>(&v4));
  }
  BOOST_TEST_REQUIRE(::inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) == 1);
  v6.sin6_family = AF_INET6;
  return wh::is_internal_address(reinterpret_cast<const sockaddr*>(&v6));
}

} // namespace

BOOST_AUTO_TEST_SUITE(webhook_tests)

BOOST_AUTO_TEST_CASE(url_rules_depend_on_strict_mode) {
  BOOST_TEST(wh::url_problem("https://hooks.example.com/x?a=1", true).empty());
  BOOST_TEST(wh::url_problem("HTTPS://hooks.example.com:8443/x", true).empty());
  BOOST_TEST(wh::url_problem("http://127.0.0.1:9000/hook", false).empty());
  BOOST_TEST(!wh::url_problem("http://hooks.example.com/x", true).empty());
  for (auto bad : {"", "ftp://example.com", "example.com/x", "https://", "https://user@example.com/",
                   "https://user:pw@example.com/", "https://a b.example.com/", "https://example.com/\x01",
                   "https://exämple.com/"})
    BOOST_TEST(!wh::url_problem(bad, false).empty(), bad);
  BOOST_TEST(wh::url_problem("https://user@example.com/", false) == "url must not contain credentials.");
  BOOST_TEST(!wh::url_problem("https://example.com/" + std::string(2048, 'a'), false).empty());
  BOOST_TEST(wh::normalized_url("HTTPS://Hooks.Example.com/A") == "https://Hooks.Example.com/A");
}

BOOST_AUTO_TEST_CASE(internal_addresses) {
  for (auto ip : {"127.0.0.1", "10.2.3.4", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                  "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1",
                  "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"})
    BOOST_TEST(internal(ip), ip);
  for (auto ip : {"93.184.215.14", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"})
    BOOST_TEST(!internal(ip), ip);
}

BOOST_AUTO_TEST_CASE(signature_is_hmac_over_t_dot_body) {
  // HMAC-SHA-256("key", "1700000000.{}") computed independently (Python hmac).
  BOOST_TEST(wh::signature("key", 1700000000, "{}")
             == "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
}

BOOST_AUTO_TEST_CASE(audit_actions_map_to_events_without_codes) {
  namespace sw = petcare::storage::webhooks;
  auto approved = sw::events_for("join_request.approved", "leader", "user", "req", {{"isTemporary", false}});
  BOOST_TEST_REQUIRE(approved.size() == 2u);
  BOOST_TEST(approved[0].event == "join_request.approved");
  BOOST_TEST(approved[1].event == "member.added");
  BOOST_TEST(approved[1].data == json({{"userId", "user"}, {"requestId", "req"}, {"approvedBy", "leader"},
                                       {"isTemporary", false}}));
  auto expired = sw::events_for("temporary_access.expired", "", "user", "", {{"expiredAt", "t"}});
  BOOST_TEST_REQUIRE(expired.size() == 1u);
  BOOST_TEST(expired[0].event == "member.expired");
  BOOST_TEST(expired[0].data == json({{"userId", "user"}, {"expiredAt", "t"}}));
  auto regen = sw::events_for("invite_code.regenerated", "leader", "", "", {{"expiresInDays", 30}, {"code", "X"}});
  BOOST_TEST_REQUIRE(regen.size() == 1u);
  BOOST_TEST(!regen[0].data.contains("code"));
  for (auto action : {"household.created", "join_request.withdrawn", "join_request.closed", "email_invite.sent",
                      "authorization.denied", "webhook.created", "temporary_access.extended"})
    BOOST_TEST(sw::events_for(action, "a", "b", "c", json::object()).empty(), action);
  for (const auto& r : {approved[0], approved[1], expired[0], regen[0]}) {
    const auto& names = sw::event_names();
    BOOST_TEST((std::find(names.begin(), names.end(), r.event) != names.end()), r.event);
  }
}

BOOST_AUTO_TEST_SUITE_END()
