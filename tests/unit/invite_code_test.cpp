#include "actors/invite_code.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>

using namespace petcare::actors;

namespace {

bool is_list_word(std::string_view w) {
  return std::find(invite_words.begin(), invite_words.end(), w) != invite_words.end();
}

normalized_code norm(std::string_view raw) { return normalize_invite_code(raw); }

} // namespace

BOOST_AUTO_TEST_SUITE(invite_code_tests)

BOOST_AUTO_TEST_CASE(word_list_is_the_nato_alphabet) {
  BOOST_TEST(invite_words.front() == "ALPHA");
  BOOST_TEST(invite_words.back() == "ZULU");
  BOOST_TEST(invite_words[13] == "NOVEMBER");
  BOOST_TEST(invite_words[23] == "XRAY");
  for (size_t i = 0; i < invite_words.size(); ++i) {
    BOOST_TEST(invite_words[i].front() == static_cast<char>('A' + i));
    BOOST_TEST(invite_words[i].size() >= 4u);
    BOOST_TEST(invite_words[i].size() <= 8u);
  }
}

BOOST_AUTO_TEST_CASE(no_word_ends_another) {
  for (auto a : invite_words)
    for (auto b : invite_words)
      if (a != b && a.size() >= b.size())
        BOOST_TEST(a.substr(a.size() - b.size()) != b, a << " ends with " << b);
}

BOOST_AUTO_TEST_CASE(prefix_examples) {
  BOOST_TEST(invite_prefix("The Zeder House") == "ZEDER");
  BOOST_TEST(invite_prefix("Smith Family") == "SMITH");
  BOOST_TEST(invite_prefix("Al Bundy Home") == "ALBUND");
  BOOST_TEST(invite_prefix("Pawsome Pets") == "PAWSOM");
}

BOOST_AUTO_TEST_CASE(prefix_house_fallbacks) {
  BOOST_TEST(invite_prefix("XY") == "HOUSE");
  BOOST_TEST(invite_prefix("2024") == "HOUSE");
  BOOST_TEST(invite_prefix("Ab 12") == "HOUSE");
  BOOST_TEST(invite_prefix("A 1") == "HOUSE"); // "A" dropped, "1" has no letters
  BOOST_TEST(invite_prefix("") == "HOUSE");
}

BOOST_AUTO_TEST_CASE(prefix_articles) {
  BOOST_TEST(invite_prefix("the zeder house") == "ZEDER");
  BOOST_TEST(invite_prefix("A Team") == "TEAM");
  BOOST_TEST(invite_prefix("An Otter Den") == "OTTER");
  BOOST_TEST(invite_prefix("The") == "THE");         // no other word follows: kept
  BOOST_TEST(invite_prefix("Then Again") == "THEN"); // only whole words are articles
  BOOST_TEST(invite_prefix("The A Team") == "ATEAM"); // one article dropped; "A" < 3 letters
  BOOST_TEST(invite_prefix("The 2024 Crew") == "CREW");
}

BOOST_AUTO_TEST_CASE(prefix_letters_and_lengths) {
  BOOST_TEST(invite_prefix("Abc") == "ABC");
  BOOST_TEST(invite_prefix("Household") == "HOUSEH");
  BOOST_TEST(invite_prefix("Pets") == "PETS");
  BOOST_TEST(invite_prefix("R2D2 Unit") == "RDUNIT");       // first word gives 2 letters: all words
  BOOST_TEST(invite_prefix("Al B") == "ALB");
  BOOST_TEST(invite_prefix("Al 42 Bo") == "ALBO");
  BOOST_TEST(invite_prefix("Smith  \tFamily") == "SMITH"); // tolerant of uncollapsed input
}

BOOST_AUTO_TEST_CASE(random_codes_match_format_and_use_list_words) {
  std::map<std::string, int> counts;
  for (int i = 0; i < 2000; ++i) {
    const std::string code = random_invite_code("ZEDER");
    BOOST_TEST_REQUIRE(valid_invite_code_format(code), code);
    BOOST_TEST_REQUIRE(code.rfind("ZEDER-", 0) == 0u);
    const size_t d2 = code.find('-', 6);
    const std::string w1 = code.substr(6, d2 - 6), w2 = code.substr(d2 + 1);
    BOOST_TEST_REQUIRE(is_list_word(w1), w1);
    BOOST_TEST_REQUIRE(is_list_word(w2), w2);
    ++counts[w1];
    ++counts[w2];
    BOOST_TEST(norm(code).code == code);
  }
  BOOST_TEST(counts.size() == 26u); // 4000 draws: every word shows up
}

BOOST_AUTO_TEST_CASE(random_prefixes) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string p = random_prefix();
    BOOST_TEST_REQUIRE(p.size() == 6u);
    for (char c : p)
      BOOST_TEST_REQUIRE((c >= 'A' && c <= 'Z'));
    BOOST_TEST(valid_invite_code_format(random_invite_code(p)));
    seen.insert(p);
  }
  BOOST_TEST(seen.size() > 190u);
  BOOST_TEST(valid_invite_code_format(random_invite_code("HOUSE")));
}

BOOST_AUTO_TEST_CASE(format_check) {
  for (const char* good : {"ZEDER-ALPHA-BRAVO", "ABC-ECHO-ECHO", "ABCDEF-NOVEMBER-NOVEMBER", "HOUSE-ABCD-ABCDEFGH"})
    BOOST_TEST(valid_invite_code_format(good), good);
  for (const char* bad : {"", "ZEDER", "ZEDER-ALPHA", "ZEDER-ALPHA-BRAVO-", "ZEDER-ALPHA-BRAVO-CHARLIE",
                          "AB-ALPHA-BRAVO", "ABCDEFG-ALPHA-BRAVO", "ZEDER-ABC-BRAVO", "ZEDER-ALPHA-ABCDEFGHI",
                          "zeder-alpha-bravo", "ZEDER-ALPHA-BRAV0", "ZEDER--ALPHA-BRAVO", "ZEDER ALPHA BRAVO",
                          "-ZEDER-ALPHA-BRAVO", "ZEDER-ALPHA-BRAVO\n", "ZÉDER-ALPHA-BRAVO"})
    BOOST_TEST(!valid_invite_code_format(bad), bad);
}

BOOST_AUTO_TEST_CASE(normalising_examples) {
  BOOST_TEST((norm("zeder alpha bravo").status == code_input::ok));
  BOOST_TEST(norm("zeder alpha bravo").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("  zeder--alpha   bravo ").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("ZEDER-ALPHA-BRAVO").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("Zeder-Alpha-Bravo").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("zeder - alpha\t-\tbravo").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("\tzeder\n alpha \r\nbravo\t").code == "ZEDER-ALPHA-BRAVO");
}

BOOST_AUTO_TEST_CASE(normalising_splits_dashless_codes) {
  BOOST_TEST((norm("ZEDERALPHABRAVO").status == code_input::ok));
  BOOST_TEST(norm("ZEDERALPHABRAVO").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("zederalphabravo").code == "ZEDER-ALPHA-BRAVO");
  BOOST_TEST(norm("  housealphaalpha ").code == "HOUSE-ALPHA-ALPHA");
  BOOST_TEST(norm("ABCECHOKILO").code == "ABC-ECHO-KILO");                 // 11 letters, shortest
  BOOST_TEST(norm("ABCDEFNOVEMBERNOVEMBER").code == "ABCDEF-NOVEMBER-NOVEMBER"); // 22 letters, longest
  BOOST_TEST(norm("PAPAPAPAPAPA").code == "PAPA-PAPA-PAPA");
  BOOST_TEST(norm("LIMALIMALIMA").code == "LIMA-LIMA-LIMA");
  // no split possible or the leftover prefix is out of range
  BOOST_TEST((norm("ABECHOKILO").status == code_input::malformed));       // 10 letters
  BOOST_TEST((norm("ABCDEFGNOVEMBERNOVEMBER").status == code_input::malformed)); // 23 letters
  BOOST_TEST((norm("ZEDERALPHABRAVX").status == code_input::malformed));
  BOOST_TEST((norm("ZEDERALPHXBRAVO").status == code_input::malformed));
  BOOST_TEST((norm("ZEDERALPHABRAV0").status == code_input::malformed));
  BOOST_TEST((norm("ABCDEFGHALPHA").status == code_input::malformed));
}

BOOST_AUTO_TEST_CASE(normalising_empty_and_malformed) {
  BOOST_TEST((norm("").status == code_input::empty));
  BOOST_TEST((norm("   ").status == code_input::empty));
  BOOST_TEST((norm("\t\n ").status == code_input::empty));
  BOOST_TEST(norm("   ").code.empty());
  for (const char* bad : {"-", "---", "zeder", "zeder alpha", "zeder_alpha_bravo", "zeder.alpha.bravo",
                          "ab alpha bravo", "zeder alpha bravo charlie", "-zeder-alpha-bravo",
                          "zeder-alpha-bravo-", "zéder alpha bravo", "zeder alpha br4vo"})
    BOOST_TEST((norm(bad).status == code_input::malformed), bad);
}

BOOST_AUTO_TEST_CASE(normalising_raw_length_limit) {
  // 64 characters of raw input still normalise; 65 are refused even though
  // the code inside would be fine.
  const std::string code = "ZEDER-ALPHA-BRAVO"; // 17
  const std::string pad64(64 - code.size(), ' ');
  BOOST_TEST((norm(pad64 + code).status == code_input::ok));
  BOOST_TEST((norm(pad64 + " " + code).status == code_input::malformed));
  BOOST_TEST((norm(code + pad64 + " ").status == code_input::malformed));
  BOOST_TEST((norm(std::string(65, 'A')).status == code_input::malformed));
  BOOST_TEST((norm(std::string(64, 'A')).status == code_input::malformed));
}

BOOST_AUTO_TEST_SUITE_END()
