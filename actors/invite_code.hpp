#pragma once
/// Invite codes, SPEC §3.2: PREFIX-WORD-WORD, prefix from the household name,
/// words from the NATO alphabet drawn by libsodium's CSPRNG, and the lenient
/// normalising of codes typed by users.

#include <array>
#include <string>
#include <string_view>

namespace petcare::actors {

/// The 26 words a code's WORD parts are drawn from (ALPHA … ZULU). No word is
/// a suffix of another, which keeps the no-dash split of normalize_invite_code unique.
extern const std::array<std::string_view, 26> invite_words;

/// Code prefix for `household_name`: upper-cased words, a leading THE/A/AN
/// dropped when another word follows, the first ≤ 6 A–Z letters of the first
/// word, or of all remaining words together when the first word has < 3 letters,
/// else "HOUSE". E.g. "The Zeder House" → ZEDER, "Al Bundy Home" → ALBUND.
std::string invite_prefix(std::string_view household_name);

/// `prefix` + "-" + two words drawn independently and uniformly (repeats allowed).
std::string random_invite_code(std::string_view prefix);

/// Six uniformly random letters A–Z: the prefix used after 20 colliding draws.
std::string random_prefix();

/// What a typed invite code turned out to be.
enum class code_input {
  ok,        ///< normalised and in the PREFIX-WORD-WORD format
  empty,     ///< empty or whitespace-only (400 VALIDATION_ERROR)
  malformed, ///< over 64 characters or no format match (400 INVALID_INVITE_CODE)
};

/// Result of normalize_invite_code; `code` is set only when status is ok.
struct normalized_code {
  code_input status;
  std::string code;
};

/// SPEC §3.2 normalising: trim, upper-case a–z, every run of whitespace and/or
/// '-' becomes one '-'; a dash-free result of 11–22 letters is split by
/// stripping a list word off the end twice. More than 64 code points of raw
/// input ⇒ malformed.
normalized_code normalize_invite_code(std::string_view raw);

/// True when `code` matches ^[A-Z]{3,6}-[A-Z]{4,8}-[A-Z]{4,8}$.
bool valid_invite_code_format(std::string_view code);

} // namespace petcare::actors
