#pragma once
/// Pure input rules of SPEC §2, §3.1, §4.1 and §4.3: UTF-8, e-mail, password,
/// display name, household name and description, UUIDs and RFC 3339 times.
/// Lengths are counted in Unicode code points. Nothing here does I/O or throws
/// (except std::bad_alloc).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace petcare::actors {

/// True when `s` is well-formed UTF-8: shortest forms only, no surrogates
/// (U+D800–U+DFFF), nothing above U+10FFFF.
bool valid_utf8(std::string_view s);

/// Number of code points in `utf8` (assumed valid: counts non-continuation bytes).
size_t code_points(std::string_view utf8);

/// True when `utf8` holds a C0 or C1 control or DEL (U+0000–U+001F, U+007F–U+009F).
/// Invalid UTF-8 counts as containing a control.
bool has_control(std::string_view utf8);

/// SPEC §4.3 e-mail: trimmed (ASCII whitespace), ASCII lower-cased, ≤ 254 code
/// points, exactly one '@', local part 1–64 code points without whitespace or
/// controls, domain of one or more dot-separated non-empty [A-Za-z0-9-] labels.
/// std::nullopt when invalid.
std::optional<std::string> normalize_email(std::string_view raw);

/// SPEC §4.3 password: 8–128 code points of valid UTF-8 and not equal to
/// `normalized_email` ignoring ASCII case. Passwords are taken as sent (no trimming).
bool valid_password(std::string_view password, std::string_view normalized_email);

/// SPEC §4.3 displayName: trimmed (ASCII whitespace), 1–50 code points, no
/// controls, no bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069).
/// std::nullopt when invalid.
std::optional<std::string> normalize_display_name(std::string_view raw);

/// Outcome of check_household_name: `error` is empty when `value` is usable.
struct name_result {
  std::string value; ///< trimmed and collapsed name (meaningful only when ok)
  std::string error; ///< exact SPEC §3.1 message, empty when ok
  bool ok() const { return error.empty(); }
};

/// SPEC §3.1 name: trim ASCII space/tab, collapse inner space/tab runs to one
/// space, then the charset check (letters, digits, spaces) before the 2–50 length check.
name_result check_household_name(std::string_view raw);

/// The two §3.1 household-name messages.
inline constexpr std::string_view household_name_charset_error =
    "Household name must contain only letters, numbers, and spaces";
inline constexpr std::string_view household_name_length_error =
    "Household name must be 2-50 characters";

/// Outcome of normalize_description: `error` is empty when ok; `value` is
/// std::nullopt when the description is cleared (empty or whitespace-only).
struct description_result {
  std::optional<std::string> value;
  std::string error; ///< VALIDATION_ERROR message, empty when ok
  bool ok() const { return error.empty(); }
};

/// SPEC §3.1 description: trimmed, every run of ASCII whitespace (space, tab,
/// CR, LF, VT, FF) becomes one space, any other control is rejected, ≤ 200 code
/// points afterwards; whitespace-only clears it.
description_result normalize_description(std::string_view raw);

/// The §3.1 / §4.2 description messages.
inline constexpr std::string_view description_control_error =
    "description must not contain control characters.";
inline constexpr std::string_view description_length_error =
    "description must be 200 characters or less.";
inline constexpr std::string_view description_utf8_error = "description must be valid UTF-8.";

/// True for 8-4-4-4-12 hexadecimal digits, either case, nothing else.
bool is_uuid(std::string_view s);

/// Lower-case form of a UUID (paths accept upper case, §4.1); std::nullopt if not a UUID.
std::optional<std::string> normalize_uuid(std::string_view s);

/// RFC 3339 date-time with an explicit offset (`Z`, `z` or ±hh:mm) and an
/// optional fraction (truncated to milliseconds) → Unix epoch milliseconds.
/// Rejects a missing offset, impossible dates (Feb 30, Feb 29 outside leap
/// years), hours > 23, minutes > 59 and leap seconds (:60).
std::optional<int64_t> parse_rfc3339_ms(std::string_view s);

/// UTC with milliseconds, e.g. "2026-02-02T10:30:00.000Z" (SPEC §4.1 output times).
std::string format_time_ms(int64_t epoch_ms);

/// UTC to the second, e.g. "2026-02-02T10:30:00Z".
std::string format_time_s(int64_t epoch_s);

/// A fresh random (version 4) UUID in lower case, from libsodium's CSPRNG.
std::string new_uuid_v4();

} // namespace petcare::actors
