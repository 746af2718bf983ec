#include "actors/validation.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>

namespace petcare::actors {

namespace {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}

/// Decodes the code point starting at `s[i]` and advances `i`. Returns false on
/// any ill-formed sequence (overlong, surrogate, > U+10FFFF, truncated).
bool next_code_point(std::string_view s, size_t& i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  }
  size_t len = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return false; // stray continuation byte or 0xF8..0xFF
  }
  if (s.size() - i < len)
    return false;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80)
      return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return false;
  i += len;
  return true;
}

bool is_control_cp(char32_t cp) { return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F); }

bool is_bidi_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/// Unicode White_Space outside ASCII (controls U+0085 excluded: it is a control).
bool is_unicode_space(char32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_ascii(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back()))
    s.remove_suffix(1);
  return s;
}

char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_alnum_ascii(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// True when every code point of valid UTF-8 `s` passes `ok`; false on invalid UTF-8.
template <typename Pred>
bool all_code_points(std::string_view s, Pred ok) {
  size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    if (!next_code_point(s, i, cp) || !ok(cp))
      return false;
  }
  return true;
}

bool valid_domain(std::string_view domain) {
  if (domain.empty())
    return false;
  size_t label_len = 0;
  for (char c : domain) {
    if (c == '.') {
      if (label_len == 0)
        return false;
      label_len = 0;
    } else if (is_alnum_ascii(c) || c == '-') {
      ++label_len;
    } else {
      return false;
    }
  }
  return label_len > 0;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back. Uses 400-year
// eras of 146097 days counted from March 1 so that Feb 29 falls at an era's end.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

struct civil {
  int64_t year;
  unsigned month, day;
};

civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/// Reads exactly `n` decimal digits at `s[pos]`.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    if (s[k] < '0' || s[k] > '9')
      return false;
    out = out * 10 + (s[k] - '0');
  }
  return true;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

std::string format_utc(int64_t epoch_s, int millis, bool with_millis) {
  const int64_t days = floor_div(epoch_s, 86400);
  const int64_t secs = epoch_s - days * 86400;
  const civil c = civil_from_days(days);
  char buf[64];
  const int h = static_cast<int>(secs / 3600), mi = static_cast<int>(secs / 60 % 60),
            se = static_cast<int>(secs % 60);
  if (with_millis)
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(c.year),
                  c.month, c.day, h, mi, se, millis);
  else
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(c.year),
                  c.month, c.day, h, mi, se);
  return buf;
}

} // namespace

bool valid_utf8(std::string_view s) {
  return all_code_points(s, [](char32_t) { return true; });
}

size_t code_points(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool has_control(std::string_view utf8) {
  return !all_code_points(utf8, [](char32_t cp) { return !is_control_cp(cp); });
}

std::optional<std::string> normalize_email(std::string_view raw) {
  const std::string_view trimmed = trim_ascii(raw);
  if (!valid_utf8(trimmed) || code_points(trimmed) > 254)
    return std::nullopt;
  std::string email;
  email.reserve(trimmed.size());
  for (char c : trimmed)
    email.push_back(to_lower_ascii(c));
  const size_t at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos)
    return std::nullopt;
  const std::string_view local = std::string_view(email).substr(0, at);
  const std::string_view domain = std::string_view(email).substr(at + 1);
  const size_t local_len = code_points(local);
  if (local_len < 1 || local_len > 64)
    return std::nullopt;
  const bool local_ok = all_code_points(local, [](char32_t cp) {
    return !is_control_cp(cp) && cp != ' ' && !is_unicode_space(cp);
  });
  if (!local_ok || !valid_domain(domain))
    return std::nullopt;
  return email;
}

bool valid_password(std::string_view password, std::string_view normalized_email) {
  if (!valid_utf8(password))
    return false;
  const size_t n = code_points(password);
  if (n < 8 || n > 128)
    return false;
  if (password.size() != normalized_email.size())
    return true;
  for (size_t i = 0; i < password.size(); ++i)
    if (to_lower_ascii(password[i]) != to_lower_ascii(normalized_email[i]))
      return true;
  return false;
}

std::optional<std::string> normalize_display_name(std::string_view raw) {
  const std::string_view name = trim_ascii(raw);
  const bool ok = all_code_points(name, [](char32_t cp) { return !is_control_cp(cp) && !is_bidi_control(cp); });
  if (!ok)
    return std::nullopt;
  const size_t n = code_points(name);
  if (n < 1 || n > 50)
    return std::nullopt;
  return std::string(name);
}

name_result check_household_name(std::string_view raw) {
  const auto space_or_tab = [](char c) { return c == ' ' || c == '\t'; };
  name_result r;
  bool pending_space = false;
  for (char c : raw) {
    if (space_or_tab(c)) {
      pending_space = !r.value.empty(); // leading runs vanish; inner runs become one space
      continue;
    }
    if (pending_space)
      r.value.push_back(' ');
    pending_space = false;
    r.value.push_back(c);
  }
  for (char c : r.value) {
    if (!is_alnum_ascii(c) && c != ' ') {
      r.error = household_name_charset_error;
      return r;
    }
  }
  if (r.value.size() < 2 || r.value.size() > 50) // ASCII only by now: bytes = code points
    r.error = household_name_length_error;
  return r;
}

description_result normalize_description(std::string_view raw) {
  description_result r;
  if (!valid_utf8(raw)) {
    r.error = description_utf8_error;
    return r;
  }
  std::string out;
  out.reserve(raw.size());
  bool pending_space = false;
  for (char c : raw) {
    if (is_ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space)
      out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  if (has_control(out)) {
    r.error = description_control_error;
    return r;
  }
  if (code_points(out) > 200) {
    r.error = description_length_error;
    return r;
  }
  if (!out.empty())
    r.value = std::move(out);
  return r;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_pos ? s[i] != '-' : !is_hex(s[i]))
      return false;
  }
  return true;
}

std::optional<std::string> normalize_uuid(std::string_view s) {
  if (!is_uuid(s))
    return std::nullopt;
  std::string out(s);
  for (char& c : out)
    c = to_lower_ascii(c);
  return out;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20 || !digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || static_cast<unsigned>(day) > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  size_t pos = 19;
  int millis = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3)
        millis = millis * 10 + (s[pos] - '0');
      ++n, ++pos;
    }
    if (n == 0)
      return std::nullopt;
    for (; n < 3; ++n)
      millis *= 10;
  }
  if (pos >= s.size())
    return std::nullopt; // no offset
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t local_s = days * 86400 + hour * 3600 + minute * 60 + second;
  return (local_s - int64_t{offset_min} * 60) * 1000 + millis;
}

std::string format_time_ms(int64_t epoch_ms) {
  const int64_t secs = floor_div(epoch_ms, 1000);
  return format_utc(secs, static_cast<int>(epoch_ms - secs * 1000), true);
}

std::string format_time_s(int64_t epoch_s) { return format_utc(epoch_s, 0, false); }

std::string new_uuid_v4() {
  ensure_sodium();
  std::array<unsigned char, 16> b{};
  randombytes_buf(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40); // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80); // RFC 4122 variant
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out.push_back('-');
    out.push_back(hex_digits[b[i] >> 4]);
    out.push_back(hex_digits[b[i] & 0x0F]);
  }
  return out;
}

} // namespace petcare::actors
