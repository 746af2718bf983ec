#include "http/router.hpp"
#include "http/routes.hpp"

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

using namespace petcare::http;
using nlohmann::json;

namespace {

/// The full route table, registered exactly as the server does (http/server.cpp).
router full_router() {
  router r;
  add_operational_routes(r);
  add_account_routes(r);
  add_household_routes(r);
  add_event_routes(r);
  add_list_routes(r);
  add_invite_routes(r);
  add_webhook_routes(r);
  return r;
}

bool under_v1(const std::string& path) { return path.rfind("/v1/", 0) == 0; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// `{name}` segments of a path template, in order.
std::vector<std::string> template_params(const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1))
    out.push_back(path.substr(i + 1, path.find('}', i) - i - 1));
  return out;
}

/// Names of the `in: path` parameters an operation declares, in order.
std::vector<std::string> documented_params(const json& op) {
  std::vector<std::string> out;
  if (auto p = op.find("parameters"); p != op.end())
    for (auto& param : *p)
      if (param.value("in", "") == "path")
        out.push_back(param.value("name", ""));
  return out;
}

const route* routed(const router& r, const std::string& method, const std::string& path) {
  for (auto* rt : r.routes())
    if (lower(rt->method) == method && rt->path == path)
      return rt;
  return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(openapi_routes_tests)

BOOST_AUTO_TEST_CASE(every_v1_route_is_documented_with_its_path_parameters) {
  auto r = full_router();
  auto doc = json::parse(openapi_document("test"));
  const auto& paths = doc.at("paths");
  size_t v1 = 0;
  for (auto* rt : r.routes()) {
    if (!under_v1(rt->path))
      continue;
    ++v1;
    auto method = lower(rt->method);
    BOOST_TEST_CONTEXT(rt->method << " " << rt->path) {
      auto p = paths.find(rt->path);
      bool documented = p != paths.end() && p->contains(method);
      BOOST_TEST(documented, "not documented in /openapi.json");
      if (!documented)
        continue;
      auto want = template_params(rt->path);
      auto got = documented_params((*p)[method]);
      BOOST_TEST(got == want, boost::test_tools::per_element());
    }
  }
  BOOST_TEST(v1 > 0u);
}

BOOST_AUTO_TEST_CASE(every_documented_operation_is_routed) {
  auto r = full_router();
  auto doc = json::parse(openapi_document("test"));
  for (auto& [path, item] : doc.at("paths").items())
    for (auto& [method, op] : item.items())
      BOOST_TEST_CONTEXT(method << " " << path) {
        BOOST_TEST(under_v1(path));
        BOOST_TEST(routed(r, method, path) != nullptr, "documented but not in the router");
        BOOST_TEST(documented_params(op) == template_params(path), boost::test_tools::per_element());
      }
}

BOOST_AUTO_TEST_CASE(documented_auth_and_body_follow_the_router) {
  auto r = full_router();
  auto doc = json::parse(openapi_document("test"));
  for (auto* rt : r.routes()) {
    if (!under_v1(rt->path))
      continue;
    auto method = lower(rt->method);
    auto p = doc.at("paths").find(rt->path);
    if (p == doc.at("paths").end() || !p->contains(method))
      continue; // reported by every_v1_route_is_documented_with_its_path_parameters
    const auto& op = (*p)[method];
    BOOST_TEST_CONTEXT(rt->method << " " << rt->path) {
      // GET /v1/events authenticates in its handler (query token), so only this direction holds.
      if (rt->auth)
        BOOST_TEST(!op.at("security").empty(), "router needs a token, document says public");
      auto body = op.find("requestBody");
      if (rt->body == body_rule::none)
        BOOST_TEST((body == op.end()), "router takes no body, document describes one");
      if (rt->body == body_rule::required)
        BOOST_TEST((body != op.end() && body->value("required", false)), "router requires a body");
      if (rt->body == body_rule::optional && body != op.end())
        BOOST_TEST(!body->value("required", true), "router's body is optional");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
