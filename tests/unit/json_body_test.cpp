#include "http/json_body.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace petcare::http;
using nlohmann::json;

namespace {

const std::optional<std::string_view> json_type{"application/json"};
const std::optional<std::string_view> no_type{};

body_status status_of(std::string_view body, std::optional<std::string_view> type = json_type) {
  return parse_body(type, body).status;
}

bool is_malformed(std::string_view body) { return status_of(body) == body_status::malformed; }

} // namespace

BOOST_AUTO_TEST_SUITE(json_body_tests)

BOOST_AUTO_TEST_CASE(media_type_accepts_json_and_utf8) {
  for (const char* ok : {"application/json", "APPLICATION/JSON", "Application/Json", "application/json; charset=utf-8",
                         "application/json;charset=utf-8", "application/json ; charset=UTF-8",
                         "application/json;\tCharset=Utf-8", "application/json; CHARSET=\"utf-8\"",
                         " application/json ", "application/json;", "application/json; charset = utf-8"})
    BOOST_TEST(is_json_media_type(ok), ok);
}

BOOST_AUTO_TEST_CASE(media_type_rejects_others) {
  for (const char* bad : {"", "text/plain", "application/xml", "application/json-patch+json",
                          "application/jsonx", "application/problem+json", "text/json", "application/x-www-form-urlencoded",
                          "multipart/form-data; boundary=x", "application/json; charset=latin1",
                          "application/json; charset=iso-8859-1", "application/json; charset=utf-16",
                          "application/json; charset=utf8", "application/json; charset=", "application/json; charset",
                          "application/json; boundary=x", "application/json; charset=utf-8; charset=utf-8",
                          "application /json", "application/ json", "application/json, text/plain"})
    BOOST_TEST(!is_json_media_type(bad), bad);
}

BOOST_AUTO_TEST_CASE(parses_objects) {
  const auto r = parse_body(json_type, R"({"name":"Zeder","n":1,"u":18446744073709551615,"f":1.5,
                                           "nested":{"a":[1,{"b":null}],"t":true},"empty":{},"arr":[]})");
  BOOST_TEST_REQUIRE((r.status == body_status::ok));
  BOOST_TEST(r.value.is_object());
  BOOST_TEST(r.value["name"] == "Zeder");
  BOOST_TEST(r.value["n"] == 1);
  BOOST_TEST(r.value["u"].is_number_unsigned());
  BOOST_TEST(r.value["f"] == 1.5);
  BOOST_TEST(r.value["nested"]["a"][1]["b"].is_null());
  BOOST_TEST(r.value["nested"]["t"] == true);
  BOOST_TEST(r.value["empty"].is_object());
  BOOST_TEST(r.value["arr"].is_array());
  BOOST_TEST(r.value.dump() == json::parse(R"({"name":"Zeder","n":1,"u":18446744073709551615,"f":1.5,
      "nested":{"a":[1,{"b":null}],"t":true},"empty":{},"arr":[]})").dump());
}

BOOST_AUTO_TEST_CASE(body_with_charset_and_whitespace) {
  BOOST_TEST((status_of(" {} ", std::string_view("application/json; charset=utf-8")) == body_status::ok));
  BOOST_TEST((status_of("\n{\"a\":1}\n") == body_status::ok));
  const auto r = parse_body(json_type, R"({"s":"caf\u00e9 \ud83d\udc36 é"})");
  BOOST_TEST_REQUIRE((r.status == body_status::ok));
  BOOST_TEST(r.value["s"].get<std::string>() == "caf\xC3\xA9 \xF0\x9F\x90\xB6 \xC3\xA9");
}

BOOST_AUTO_TEST_CASE(absent_bodies) {
  auto r = parse_body(no_type, "");
  BOOST_TEST((r.status == body_status::absent));
  BOOST_TEST(r.value.is_object());
  BOOST_TEST(r.value.empty());
  BOOST_TEST((status_of("", json_type) == body_status::absent));
  BOOST_TEST((status_of("", std::string_view("application/json; charset=utf-8")) == body_status::absent));
  BOOST_TEST((status_of("{}", json_type) == body_status::ok)); // {} is a body, just an empty one
}

BOOST_AUTO_TEST_CASE(unsupported_media_types) {
  BOOST_TEST((status_of("{}", no_type) == body_status::unsupported_media_type));
  BOOST_TEST((status_of("{}", std::string_view("text/plain")) == body_status::unsupported_media_type));
  BOOST_TEST((status_of("{}", std::string_view("application/json; charset=latin1")) ==
              body_status::unsupported_media_type));
  BOOST_TEST((status_of("", std::string_view("text/plain")) == body_status::unsupported_media_type));
  BOOST_TEST((status_of("", std::string_view("")) == body_status::unsupported_media_type));
  // the media type is judged before the content
  BOOST_TEST((status_of("not json", std::string_view("text/plain")) == body_status::unsupported_media_type));
  BOOST_TEST((status_of("\xFF", no_type) == body_status::unsupported_media_type));
}

BOOST_AUTO_TEST_CASE(invalid_json_is_malformed) {
  for (const char* bad : {"{", "}", "{\"a\":}", "{\"a\":1,}", "{'a':1}", "{a:1}", "{\"a\":1} x", "{\"a\":1}{}",
                          "{\"a\":01}", "{\"a\":NaN}", "{\"a\":\"\t\"}", "{\"a\":\"\\x\"}", "{\"a\":1 // c\n}",
                          "{\"a\":/* c */1}", "   ", "{\"a\":\"\\u12\"}", "{\"a\" 1}"})
    BOOST_TEST(is_malformed(bad), bad);
}

BOOST_AUTO_TEST_CASE(non_object_top_level_is_malformed) {
  for (const char* bad : {"[]", "[{}]", "null", "true", "0", "-1.5", "\"text\"", "[{\"a\":1}]"})
    BOOST_TEST(is_malformed(bad), bad);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_malformed) {
  BOOST_TEST(is_malformed("{\"a\":\"\xFF\"}"));
  BOOST_TEST(is_malformed("{\"a\":\"\xC0\xAF\"}"));      // overlong
  BOOST_TEST(is_malformed("{\"a\":\"\xED\xA0\x80\"}"));  // raw surrogate
  BOOST_TEST(is_malformed("{\"a\":\"\xC3\"}"));          // truncated
  BOOST_TEST(is_malformed("{\"\xFE\":1}"));             // in a key
  BOOST_TEST(is_malformed("{\"a\":1}\xFF"));             // outside any string
  BOOST_TEST(is_malformed("{\"a\":1,\xC3\xA9}"));        // valid UTF-8, not JSON
}

BOOST_AUTO_TEST_CASE(lone_surrogates_are_malformed) {
  for (const char* bad : {R"({"a":"\ud800"})", R"({"a":"\uD800x"})", R"({"a":"\udbff"})", R"({"a":"\udc00"})",
                          R"({"a":"\uDFFF"})", R"({"a":"\ud800\ud800"})", R"({"a":"\udc00\ud800"})",
                          R"({"a":"\ud800\u0041"})", R"({"\ud800":1})", R"({"a":["\udc00"]})"})
    BOOST_TEST(is_malformed(bad), bad);
  BOOST_TEST((status_of(R"({"a":"\ud800\udc00"})") == body_status::ok)); // a proper pair
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_malformed_at_any_depth) {
  for (const char* bad : {R"({"a":1,"a":1})", R"({"a":1,"b":2,"a":3})", R"({"a":{"x":1,"x":2}})",
                          R"({"a":[{"k":1},{"k":2,"k":3}]})", R"({"a":{"b":{"c":{"d":1,"d":1}}}})",
                          R"({"a":1,"\u0061":2})", R"({"":1,"":2})"})
    BOOST_TEST(is_malformed(bad), bad);
}

BOOST_AUTO_TEST_CASE(same_key_in_different_objects_is_fine) {
  const auto r = parse_body(json_type, R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"a":1}})");
  BOOST_TEST_REQUIRE((r.status == body_status::ok));
  BOOST_TEST(r.value["a"]["a"]["a"] == 1);
  BOOST_TEST(r.value["b"][1]["a"] == 2);
  BOOST_TEST(r.value["c"]["a"] == 1);
}

BOOST_AUTO_TEST_CASE(escaped_controls_survive_for_field_validation) {
  const auto r = parse_body(json_type, R"({"a":"x\u0000y","b":"\n"})");
  BOOST_TEST_REQUIRE((r.status == body_status::ok));
  BOOST_TEST(r.value["a"].get<std::string>() == std::string("x\0y", 3));
  BOOST_TEST(r.value["b"] == "\n");
}

BOOST_AUTO_TEST_CASE(deep_nesting_does_not_crash) {
  const std::string deep = "{\"a\":" + std::string(20000, '[') + std::string(20000, ']') + "}";
  BOOST_TEST((status_of(deep) == body_status::ok));
  const std::string open_only = "{\"a\":" + std::string(20000, '[');
  BOOST_TEST(is_malformed(open_only));
}

BOOST_AUTO_TEST_SUITE_END()
