#include "actors/validation.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace petcare::actors;

namespace {

/// `n` copies of `unit` (a UTF-8 string, possibly multibyte).
std::string repeat(std::string_view unit, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += unit;
  return s;
}

const std::string e_acute = "\xC3\xA9";      // é, 2 bytes
const std::string euro = "\xE2\x82\xAC";     // €, 3 bytes
const std::string dog = "\xF0\x9F\x90\xB6";  // 🐶, 4 bytes
const std::string nbsp = "\xC2\xA0";         // U+00A0

} // namespace

BOOST_AUTO_TEST_SUITE(validation_tests)

BOOST_AUTO_TEST_CASE(utf8_accepts_well_formed_text) {
  BOOST_TEST(valid_utf8(""));
  BOOST_TEST(valid_utf8("plain ascii"));
  BOOST_TEST(valid_utf8(e_acute + euro + dog));
  BOOST_TEST(valid_utf8("\xF4\x8F\xBF\xBF"));              // U+10FFFF
  BOOST_TEST(valid_utf8("\xED\x9F\xBF"));                  // U+D7FF
  BOOST_TEST(valid_utf8("\xEE\x80\x80"));                  // U+E000
  BOOST_TEST(valid_utf8(std::string("a\0b", 3)));          // NUL is valid UTF-8
}

BOOST_AUTO_TEST_CASE(utf8_rejects_ill_formed_text) {
  BOOST_TEST(!valid_utf8("\x80"));                 // stray continuation
  BOOST_TEST(!valid_utf8("\xC3"));                 // truncated
  BOOST_TEST(!valid_utf8("\xE2\x82"));             // truncated
  BOOST_TEST(!valid_utf8("\xC0\xAF"));             // overlong '/'
  BOOST_TEST(!valid_utf8("\xC1\xBF"));             // overlong
  BOOST_TEST(!valid_utf8("\xE0\x80\xAF"));         // overlong 3-byte
  BOOST_TEST(!valid_utf8("\xF0\x80\x80\xAF"));     // overlong 4-byte
  BOOST_TEST(!valid_utf8("\xED\xA0\x80"));         // U+D800 surrogate
  BOOST_TEST(!valid_utf8("\xED\xBF\xBF"));         // U+DFFF surrogate
  BOOST_TEST(!valid_utf8("\xF4\x90\x80\x80"));     // U+110000
  BOOST_TEST(!valid_utf8("\xF8\x88\x80\x80\x80")); // 5-byte form
  BOOST_TEST(!valid_utf8("\xFF"));
  BOOST_TEST(!valid_utf8("a\xC3(b"));              // bad continuation
}

BOOST_AUTO_TEST_CASE(code_points_count_characters_not_bytes) {
  BOOST_TEST(code_points("") == 0u);
  BOOST_TEST(code_points("abc") == 3u);
  BOOST_TEST(code_points(e_acute + euro + dog) == 3u);
}

BOOST_AUTO_TEST_CASE(controls_are_c0_del_and_c1) {
  BOOST_TEST(!has_control("hello world"));
  BOOST_TEST(!has_control(e_acute + nbsp));
  BOOST_TEST(has_control(std::string("a\0b", 3)));
  BOOST_TEST(has_control("a\tb"));
  BOOST_TEST(has_control("a\nb"));
  BOOST_TEST(has_control("\x1F"));
  BOOST_TEST(has_control("\x7F"));
  BOOST_TEST(has_control("\xC2\x80")); // U+0080
  BOOST_TEST(has_control("\xC2\x85")); // U+0085 NEL
  BOOST_TEST(has_control("\xC2\x9F")); // U+009F
  BOOST_TEST(!has_control(" \x20~"));
}

BOOST_AUTO_TEST_CASE(email_is_trimmed_and_lowercased) {
  BOOST_TEST(*normalize_email("  Alice.Smith@Example.COM \t") == "alice.smith@example.com");
  BOOST_TEST(*normalize_email("a@b") == "a@b");
  BOOST_TEST(*normalize_email("x+tag@mail-1.example.co.uk") == "x+tag@mail-1.example.co.uk");
}

BOOST_AUTO_TEST_CASE(email_rejects_bad_shapes) {
  for (const char* bad : {"", "   ", "plainaddress", "@example.com", "user@", "a@@b.com", "a@b@c.com",
                          "us er@example.com", "user@exa mple.com", "user@.example.com", "user@example..com",
                          "user@example.com.", "user@exam_ple.com", "user@ex!ample.com", "a\tb@example.com"})
    BOOST_TEST(!normalize_email(bad).has_value(), bad);
  BOOST_TEST(!normalize_email("a" + nbsp + "b@example.com").has_value());
  BOOST_TEST(!normalize_email("a\xC3@example.com").has_value());
  BOOST_TEST(!normalize_email(std::string("a\0b@example.com", 15)).has_value());
}

BOOST_AUTO_TEST_CASE(email_length_limits) {
  BOOST_TEST(normalize_email(repeat("a", 64) + "@example.com").has_value());
  BOOST_TEST(!normalize_email(repeat("a", 65) + "@example.com").has_value());
  BOOST_TEST(normalize_email(repeat(e_acute, 64) + "@example.com").has_value());
  // 64 + 1 + 189 = 254 accepted, 255 refused
  const std::string domain_189 = repeat("b", 60) + "." + repeat("c", 60) + "." + repeat("d", 67);
  BOOST_TEST_REQUIRE(domain_189.size() == 189u);
  BOOST_TEST(normalize_email(repeat("a", 64) + "@" + domain_189).has_value());
  BOOST_TEST(!normalize_email(repeat("a", 64) + "@" + domain_189 + "e").has_value());
  // trimming happens before the length check
  BOOST_TEST(normalize_email("  " + repeat("a", 64) + "@" + domain_189 + "  ").has_value());
}

BOOST_AUTO_TEST_CASE(password_rules) {
  BOOST_TEST(!valid_password("1234567", "a@b.com"));
  BOOST_TEST(valid_password("12345678", "a@b.com"));
  BOOST_TEST(valid_password(repeat("x", 128), "a@b.com"));
  BOOST_TEST(!valid_password(repeat("x", 129), "a@b.com"));
  BOOST_TEST(valid_password(repeat(euro, 8), "a@b.com"));     // 8 code points, 24 bytes
  BOOST_TEST(!valid_password(repeat(euro, 7), "a@b.com"));    // 21 bytes but 7 characters
  BOOST_TEST(valid_password(repeat(dog, 128), "a@b.com"));
  BOOST_TEST(!valid_password(repeat(dog, 129), "a@b.com"));
  BOOST_TEST(!valid_password("alice@example.com", "alice@example.com"));
  BOOST_TEST(!valid_password("ALICE@Example.COM", "alice@example.com"));
  BOOST_TEST(valid_password("alice@example.co", "alice@example.com"));
  BOOST_TEST(!valid_password("abc\xC3(defgh", "a@b.com")); // invalid UTF-8
}

BOOST_AUTO_TEST_CASE(display_name_rules) {
  BOOST_TEST(*normalize_display_name("  Alice \t") == "Alice");
  BOOST_TEST(*normalize_display_name("A") == "A");
  BOOST_TEST(*normalize_display_name("Zo" + e_acute + " " + dog) == "Zo" + e_acute + " " + dog);
  BOOST_TEST(!normalize_display_name("").has_value());
  BOOST_TEST(!normalize_display_name("   ").has_value());
  BOOST_TEST(normalize_display_name(repeat(e_acute, 49)).has_value());
  BOOST_TEST(normalize_display_name(repeat(e_acute, 50)).has_value());
  BOOST_TEST(!normalize_display_name(repeat(e_acute, 51)).has_value());
  BOOST_TEST(normalize_display_name(repeat(dog, 50)).has_value());
  BOOST_TEST(!normalize_display_name(repeat(dog, 51)).has_value());
  BOOST_TEST(!normalize_display_name("Al\nice").has_value());
  BOOST_TEST(!normalize_display_name("Al\tice").has_value());
  BOOST_TEST(!normalize_display_name("Al\xC2\x85ice").has_value()); // U+0085
  BOOST_TEST(!normalize_display_name("Al\x7Fice").has_value());
  for (const char* bidi : {"\xE2\x80\xAA", "\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x81\xA9"}) // 202A 202E 2066 2069
    BOOST_TEST(!normalize_display_name(std::string("Al") + bidi + "ice").has_value());
  BOOST_TEST(normalize_display_name("Al\xE2\x80\xA9ice").has_value()); // U+2029 is not an override
  BOOST_TEST(!normalize_display_name("Al\xC3").has_value());
}

BOOST_AUTO_TEST_CASE(household_name_trims_and_collapses) {
  auto r = check_household_name("  The \t Zeder\t\tHouse  ");
  BOOST_TEST(r.error == "");
  BOOST_TEST(r.value == "The Zeder House");
  r = check_household_name("\tSmith Family\t");
  BOOST_TEST(r.ok());
  BOOST_TEST(r.value == "Smith Family");
  BOOST_TEST(check_household_name("Ab").ok());
  BOOST_TEST(check_household_name("2024").ok());
}

BOOST_AUTO_TEST_CASE(household_name_charset_is_checked_first) {
  const std::string charset = "Household name must contain only letters, numbers, and spaces";
  for (const std::string& bad : {std::string("Caf") + e_acute, std::string("Dog ") + dog, std::string("O'Brien"),
                                std::string("Smith-Family"), std::string("a\nb"), std::string("A") + nbsp + "B",
                                std::string("!"), std::string("x\x7F")})
    BOOST_TEST(check_household_name(bad).error == charset, bad);
  // a charset failure wins over a length failure
  BOOST_TEST(check_household_name(repeat("a", 60) + "!").error == charset);
  BOOST_TEST(check_household_name(e_acute).error == charset);
  BOOST_TEST(check_household_name("No" + nbsp + "Break").error == charset);
}

BOOST_AUTO_TEST_CASE(household_name_length) {
  const std::string length = "Household name must be 2-50 characters";
  BOOST_TEST(check_household_name("").error == length);
  BOOST_TEST(check_household_name("   ").error == length);
  BOOST_TEST(check_household_name(" a ").error == length);
  BOOST_TEST(check_household_name(repeat("a", 49)).ok());
  BOOST_TEST(check_household_name(repeat("a", 50)).ok());
  BOOST_TEST(check_household_name(repeat("a", 51)).error == length);
  // counted after collapsing: 25 + 1 + 24 = 50
  BOOST_TEST(check_household_name(repeat("a", 25) + "\t\t\t   " + repeat("b", 24)).ok());
  BOOST_TEST(check_household_name(repeat("a", 25) + "  " + repeat("b", 25)).error == length);
}

BOOST_AUTO_TEST_CASE(description_whitespace_and_clearing) {
  auto r = normalize_description("  Two  dogs\tand\n\r\na   cat ");
  BOOST_TEST(r.ok());
  BOOST_TEST(*r.value == "Two dogs and a cat");
  for (const char* cleared : {"", " ", "\t\n  \r\n"}) {
    r = normalize_description(cleared);
    BOOST_TEST(r.ok());
    BOOST_TEST(!r.value.has_value());
  }
  r = normalize_description("Caf" + e_acute + " <b>" + nbsp + "</b>");
  BOOST_TEST(r.ok());
  BOOST_TEST(*r.value == "Caf" + e_acute + " <b>" + nbsp + "</b>"); // stored as typed
}

BOOST_AUTO_TEST_CASE(description_controls_and_length) {
  const std::string control = "description must not contain control characters.";
  const std::string length = "description must be 200 characters or less.";
  BOOST_TEST(normalize_description(std::string("a\0b", 3)).error == control);
  BOOST_TEST(normalize_description("a\x1B[31mb").error == control);
  BOOST_TEST(normalize_description("a\x7F").error == control);
  BOOST_TEST(normalize_description("a\xC2\x85").error == control);
  BOOST_TEST(normalize_description(repeat(euro, 200)).ok());
  BOOST_TEST(normalize_description(repeat(euro, 201)).error == length);
  BOOST_TEST(normalize_description(repeat("a", 199)).ok());
  BOOST_TEST(normalize_description(repeat("a", 201)).error == length);
  // measured after collapsing whitespace: 100 + 1 + 99 = 200
  BOOST_TEST(normalize_description("  " + repeat("a", 100) + "\n\n\t " + repeat("b", 99) + "  ").ok());
  BOOST_TEST(!normalize_description("bad\xC3").ok());
}

BOOST_AUTO_TEST_CASE(uuids) {
  BOOST_TEST(is_uuid("123e4567-e89b-42d3-a456-426614174000"));
  BOOST_TEST(is_uuid("123E4567-E89B-42D3-A456-426614174000"));
  BOOST_TEST(!is_uuid(""));
  BOOST_TEST(!is_uuid("123e4567e89b42d3a456426614174000"));
  BOOST_TEST(!is_uuid("123e4567-e89b-42d3-a456-42661417400"));
  BOOST_TEST(!is_uuid("123e4567-e89b-42d3-a456-4266141740000"));
  BOOST_TEST(!is_uuid("123e4567-e89b-42d3-a456_426614174000"));
  BOOST_TEST(!is_uuid("g23e4567-e89b-42d3-a456-426614174000"));
  BOOST_TEST(!is_uuid("{23e4567-e89b-42d3-a456-42661417400}"));
  BOOST_TEST(*normalize_uuid("123E4567-E89B-42D3-A456-426614174ABC") == "123e4567-e89b-42d3-a456-426614174abc");
  BOOST_TEST(!normalize_uuid("not-a-uuid").has_value());
}

BOOST_AUTO_TEST_CASE(new_uuids_are_random_v4) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = new_uuid_v4();
    BOOST_TEST(is_uuid(id));
    BOOST_TEST(*normalize_uuid(id) == id);
    BOOST_TEST(id[14] == '4');
    BOOST_TEST((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 200u);
}

BOOST_AUTO_TEST_CASE(rfc3339_parses_offsets) {
  BOOST_TEST(*parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00Z") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00.000Z") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02t10:30:00z") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T12:30:00+02:00") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T05:00:00-05:30") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00-00:00") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-03T00:00:00+13:30") == 1770028200000);
  BOOST_TEST(*parse_rfc3339_ms("1969-12-31T23:59:59.999Z") == -1);
}

BOOST_AUTO_TEST_CASE(rfc3339_fractions) {
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00.5Z") == 1770028200500);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00.12Z") == 1770028200120);
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00.123456789Z") == 1770028200123); // truncated
  BOOST_TEST(*parse_rfc3339_ms("2026-02-02T10:30:00.999+01:00") == 1770024600999);
  BOOST_TEST(!parse_rfc3339_ms("2026-02-02T10:30:00.Z").has_value());
}

BOOST_AUTO_TEST_CASE(rfc3339_calendar) {
  BOOST_TEST(*parse_rfc3339_ms("2024-02-29T00:00:00Z") == 1709164800000); // leap day
  BOOST_TEST(*parse_rfc3339_ms("2000-02-29T00:00:00Z") == 951782400000);  // 400-year leap
  BOOST_TEST(!parse_rfc3339_ms("2025-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("1900-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-02-30T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-04-31T00:00:00Z").has_value());
  BOOST_TEST(parse_rfc3339_ms("2026-12-31T23:59:59Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-13-01T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-00-01T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-01-00T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-01-01T24:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-01-01T23:60:00Z").has_value());
  BOOST_TEST(!parse_rfc3339_ms("2026-01-01T23:59:60Z").has_value());
}

BOOST_AUTO_TEST_CASE(rfc3339_rejects_bad_syntax) {
  for (const char* bad : {"", "2026-02-02T10:30:00", "2026-02-02T10:30:00.123", "2026-02-02", "2026-02-02 10:30:00Z",
                          "2026-02-02T10:30Z", "2026-2-02T10:30:00Z", "26-02-02T10:30:00Z", "2026-02-02T10:30:00+0200",
                          "2026-02-02T10:30:00+02", "2026-02-02T10:30:00+24:00", "2026-02-02T10:30:00+02:60",
                          "2026-02-02T10:30:00ZZ", "2026-02-02T10:30:00Z ", " 2026-02-02T10:30:00Z",
                          "2026-02-02T10:30:00 Z", "2026-02-02T10:30:00UTC", "+2026-02-02T10:30:00Z",
                          "2026-02-02T10:30:00+02:00:00", "1770028200000"})
    BOOST_TEST(!parse_rfc3339_ms(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(formats_utc_times) {
  BOOST_TEST(format_time_ms(0) == "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_time_ms(1770028200000) == "2026-02-02T10:30:00.000Z");
  BOOST_TEST(format_time_ms(1770028200007) == "2026-02-02T10:30:00.007Z");
  BOOST_TEST(format_time_ms(1709164800000) == "2024-02-29T00:00:00.000Z");
  BOOST_TEST(format_time_ms(-1) == "1969-12-31T23:59:59.999Z");
  BOOST_TEST(format_time_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
  BOOST_TEST(format_time_s(1770028200) == "2026-02-02T10:30:00Z");
  BOOST_TEST(format_time_s(951868799) == "2000-02-29T23:59:59Z");
}

BOOST_AUTO_TEST_CASE(format_and_parse_round_trip) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{951782400123}, int64_t{1770028200999}, int64_t{4102444800000},
                     int64_t{-86400001}}) {
    const auto back = parse_rfc3339_ms(format_time_ms(ms));
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(*back == ms);
  }
  for (int64_t day = -1000; day < 200000; day += 37) // every month shape over ~550 years
    BOOST_TEST_REQUIRE(*parse_rfc3339_ms(format_time_ms(day * 86400000)) == day * 86400000);
}

BOOST_AUTO_TEST_SUITE_END()
