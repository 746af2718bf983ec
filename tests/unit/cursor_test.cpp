#include "storage/listings.hpp"

#include "storage/crypto.hpp"

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <string>

using namespace petcare::storage;
using namespace petcare::storage::listings;

namespace {

const std::string some_id = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// A cursor with hand-made JSON inside, to probe the decoder.
std::string raw_cursor(const std::string& json_text) {
  return crypto::base64url(json_text);
}

cursor_status status_of(const std::string& text, const std::string& filter = "f1") {
  return decode_cursor(text, filter).status;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cursor_tests)

BOOST_AUTO_TEST_CASE(round_trip_keeps_the_position) {
  position p{1770027000123457, some_id};
  auto text = encode_cursor(p, "notifications?unreadOnly=false");
  auto d = decode_cursor(text, "notifications?unreadOnly=false");
  BOOST_TEST_REQUIRE((d.status == cursor_status::ok));
  BOOST_TEST((d.after == p));
}

BOOST_AUTO_TEST_CASE(cursor_is_url_safe) {
  auto text = encode_cursor({max_at_us, "ffffffff-ffff-ffff-ffff-ffffffffffff"}, "a?b=c&d=é");
  for (char ch : text) {
    bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '_';
    BOOST_TEST(ok, "unexpected character " << ch);
  }
}

BOOST_AUTO_TEST_CASE(bounds_of_the_timestamp_round_trip) {
  for (int64_t at : {int64_t{0}, int64_t{1}, max_at_us}) {
    auto d = decode_cursor(encode_cursor({at, some_id}, "f1"), "f1");
    BOOST_TEST_REQUIRE((d.status == cursor_status::ok));
    BOOST_TEST(d.after.at_us == at);
  }
}

BOOST_AUTO_TEST_CASE(cursor_is_bound_to_its_filters) {
  auto text = encode_cursor({5, some_id}, "members?status=active");
  BOOST_TEST((status_of(text, "members?status=expired") == cursor_status::other_filter));
  BOOST_TEST((status_of(text, "join-requests?status=active") == cursor_status::other_filter));
  BOOST_TEST((status_of(text, "") == cursor_status::other_filter));
}

BOOST_AUTO_TEST_CASE(garbage_is_malformed) {
  BOOST_TEST((status_of("") == cursor_status::malformed));
  BOOST_TEST((status_of("!!!") == cursor_status::malformed));
  BOOST_TEST((status_of("abc=") == cursor_status::malformed));
  BOOST_TEST((status_of(raw_cursor("not json")) == cursor_status::malformed));
  BOOST_TEST((status_of(raw_cursor("[1,2]")) == cursor_status::malformed));
  BOOST_TEST((status_of(std::string(600, 'A')) == cursor_status::malformed));
  // standard base64 padding and alphabet are not base64url
  auto text = encode_cursor({5, some_id}, "f1");
  BOOST_TEST((status_of(text + "=") == cursor_status::malformed));
}

BOOST_AUTO_TEST_CASE(shape_of_the_json_is_checked) {
  auto bad = {
    R"({"k":[5],"f":"f1"})",
    R"({"k":[5,"x","y"],"f":"f1"})",
    R"({"k":"5","f":"f1"})",
    R"({"k":[5,"0f8fad5b-d9cb-469f-a165-70867728950e"]})",
    R"({"f":"f1"})",
    R"({"k":[5,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":1})",
    R"({"k":[5,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1","x":0})",
    R"({"k":["5","0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1"})",
    R"({"k":[5.5,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1"})",
    R"({"k":[-1,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1"})",
    R"({"k":[253402300800000000,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1"})",
    R"({"k":[18446744073709551615,"0f8fad5b-d9cb-469f-a165-70867728950e"],"f":"f1"})",
    R"({"k":[5,"0F8FAD5B-D9CB-469F-A165-70867728950E"],"f":"f1"})",
    R"({"k":[5,"0f8fad5bd9cb469fa16570867728950e"],"f":"f1"})",
    R"({"k":[5,"0f8fad5b-d9cb-469f-a165-70867728950e'; --"],"f":"f1"})",
  };
  for (auto json_text : bad)
    BOOST_TEST((status_of(raw_cursor(json_text)) == cursor_status::malformed), json_text);
  auto good = R"({"f":"f1","k":[5,"0f8fad5b-d9cb-469f-a165-70867728950e"]})";
  BOOST_TEST((status_of(raw_cursor(good)) == cursor_status::ok));
}

BOOST_AUTO_TEST_CASE(page_defaults) {
  page_request p;
  BOOST_TEST(parse_page(std::nullopt, std::nullopt, "f1", p).empty());
  BOOST_TEST(p.limit == 20);
  BOOST_TEST(!p.after.has_value());
  BOOST_TEST(p.filter == "f1");
}

BOOST_AUTO_TEST_CASE(empty_cursor_counts_as_absent) {
  page_request p;
  BOOST_TEST(parse_page(std::string_view{"5"}, std::string_view{""}, "f1", p).empty());
  BOOST_TEST(p.limit == 5);
  BOOST_TEST(!p.after.has_value());
}

BOOST_AUTO_TEST_CASE(limit_is_an_integer_from_1_to_100) {
  page_request p;
  for (auto ok : {"1", "20", "100", "007"}) {
    BOOST_TEST(parse_page(std::string_view{ok}, std::nullopt, "f1", p).empty(), ok);
  }
  BOOST_TEST(parse_page(std::string_view{"100"}, std::nullopt, "f1", p).empty());
  BOOST_TEST(p.limit == 100);
  for (auto bad : {"", "0", "101", "-1", "+5", "5.0", "1e2", " 5", "abc", "99999999999999999999"}) {
    auto err = parse_page(std::string_view{bad}, std::nullopt, "f1", p);
    BOOST_TEST(err == "limit must be an integer from 1 to 100.", bad);
  }
}

BOOST_AUTO_TEST_CASE(cursor_problems_are_named) {
  page_request p;
  auto other = encode_cursor({5, some_id}, "f2");
  BOOST_TEST(parse_page(std::nullopt, std::string_view{other}, "f1", p)
             == "cursor was issued for other filters.");
  BOOST_TEST(parse_page(std::nullopt, std::string_view{"zz"}, "f1", p) == "cursor is malformed.");
  auto mine = encode_cursor({5, some_id}, "f1");
  BOOST_TEST(parse_page(std::string_view{"3"}, std::string_view{mine}, "f1", p).empty());
  BOOST_TEST_REQUIRE(p.after.has_value());
  BOOST_TEST((*p.after == position{5, some_id}));
  BOOST_TEST(p.limit == 3);
}

BOOST_AUTO_TEST_SUITE_END()
