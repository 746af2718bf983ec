#include "actors/invite_code.hpp"

#include "actors/validation.hpp"

#include <sodium.h>

#include <cstdint>
#include <vector>

namespace petcare::actors {

const std::array<std::string_view, 26> invite_words{
    "ALPHA", "BRAVO",   "CHARLIE", "DELTA",  "ECHO",    "FOXTROT", "GOLF",   "HOTEL", "INDIA",
    "JULIET", "KILO",   "LIMA",    "MIKE",   "NOVEMBER", "OSCAR",  "PAPA",   "QUEBEC", "ROMEO",
    "SIERRA", "TANGO",  "UNIFORM", "VICTOR", "WHISKEY", "XRAY",    "YANKEE", "ZULU"};

namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char to_upper_ascii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// Appends the A–Z letters of `word` to `out` until `out` holds `limit` letters.
void append_letters(std::string& out, std::string_view word, size_t limit) {
  for (char c : word) {
    if (out.size() >= limit)
      return;
    if (is_upper(c))
      out.push_back(c);
  }
}

/// Length of the list word that `s` ends with, 0 when none does.
size_t trailing_word(std::string_view s) {
  for (std::string_view w : invite_words)
    if (s.size() >= w.size() && s.substr(s.size() - w.size()) == w)
      return w.size();
  return 0;
}

/// "ZEDERALPHABRAVO" → "ZEDER-ALPHA-BRAVO"; unchanged when no split applies.
std::string split_dashless(const std::string& s) {
  if (s.size() < 11 || s.size() > 22)
    return s;
  for (char c : s)
    if (!is_upper(c))
      return s;
  std::string_view rest = s;
  const size_t second = trailing_word(rest);
  if (second == 0)
    return s;
  rest.remove_suffix(second);
  const size_t first = trailing_word(rest);
  if (first == 0)
    return s;
  rest.remove_suffix(first);
  std::string out(rest);
  out += '-';
  out += s.substr(rest.size(), first);
  out += '-';
  out += s.substr(rest.size() + first);
  return out;
}

/// Checks `[A-Z]{min,max}` for a dash-free segment.
bool letters_between(std::string_view part, size_t min, size_t max) {
  if (part.size() < min || part.size() > max)
    return false;
  for (char c : part)
    if (!is_upper(c))
      return false;
  return true;
}

} // namespace

std::string invite_prefix(std::string_view household_name) {
  std::vector<std::string> words;
  std::string current;
  for (char c : household_name) {
    if (is_ascii_space(c)) {
      if (!current.empty())
        words.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(to_upper_ascii(c));
    }
  }
  if (!current.empty())
    words.push_back(std::move(current));

  size_t first = 0;
  if (words.size() > 1 && (words[0] == "THE" || words[0] == "A" || words[0] == "AN"))
    first = 1;
  std::string prefix;
  if (first < words.size())
    append_letters(prefix, words[first], 6);
  if (prefix.size() < 3) {
    prefix.clear();
    for (size_t i = first; i < words.size(); ++i)
      append_letters(prefix, words[i], 6);
  }
  return prefix.size() < 3 ? std::string("HOUSE") : prefix;
}

std::string random_invite_code(std::string_view prefix) {
  ensure_sodium();
  std::string code(prefix);
  for (int i = 0; i < 2; ++i) {
    code += '-';
    code += invite_words[randombytes_uniform(static_cast<uint32_t>(invite_words.size()))];
  }
  return code;
}

std::string random_prefix() {
  ensure_sodium();
  std::string prefix;
  for (int i = 0; i < 6; ++i)
    prefix.push_back(static_cast<char>('A' + randombytes_uniform(26)));
  return prefix;
}

normalized_code normalize_invite_code(std::string_view raw) {
  size_t begin = 0, end = raw.size();
  while (begin < end && is_ascii_space(raw[begin]))
    ++begin;
  while (end > begin && is_ascii_space(raw[end - 1]))
    --end;
  if (begin == end)
    return {code_input::empty, {}};
  if (code_points(raw) > 64)
    return {code_input::malformed, {}};

  std::string code;
  bool in_separator = false;
  for (char c : raw.substr(begin, end - begin)) {
    if (is_ascii_space(c) || c == '-') {
      if (!in_separator)
        code.push_back('-');
      in_separator = true;
    } else {
      code.push_back(to_upper_ascii(c));
      in_separator = false;
    }
  }
  if (code.find('-') == std::string::npos)
    code = split_dashless(code);
  if (!valid_invite_code_format(code))
    return {code_input::malformed, {}};
  return {code_input::ok, std::move(code)};
}

bool valid_invite_code_format(std::string_view code) {
  const size_t d1 = code.find('-');
  if (d1 == std::string_view::npos)
    return false;
  const size_t d2 = code.find('-', d1 + 1);
  if (d2 == std::string_view::npos)
    return false;
  return letters_between(code.substr(0, d1), 3, 6) && letters_between(code.substr(d1 + 1, d2 - d1 - 1), 4, 8) &&
         letters_between(code.substr(d2 + 1), 4, 8);
}

} // namespace petcare::actors
