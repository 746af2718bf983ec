/// libFuzzer target (b): invite-code normalising (SPEC §3.2) and the prefix
/// derived from a household name.

#include <cstdint>
#include <string>

#include "actors/invite_code.hpp"
#include "actors/validation.hpp"
#include "fuzz_common.hpp"

using namespace petcare;
using petcare::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  auto n = actors::normalize_invite_code(raw);
  switch (n.status) {
    case actors::code_input::ok:
      require(actors::valid_invite_code_format(n.code), "ok code has the format", n.code);
      require(actors::code_points(raw) <= 64, "ok code from > 64 code points");
      {
        // Normalising is idempotent, also on the lower-case, spaced form a user may type.
        auto again = actors::normalize_invite_code(n.code);
        require(again.status == actors::code_input::ok && again.code == n.code, "idempotent", n.code);
        std::string typed;
        for (char c : n.code)
          typed += c == '-' ? std::string{" - "} : std::string(1, static_cast<char>(c - 'A' + 'a'));
        auto lower = actors::normalize_invite_code(typed);
        require(lower.status == actors::code_input::ok && lower.code == n.code, "typed form", typed);
      }
      break;
    case actors::code_input::empty:
      for (char c : raw)
        require(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f',
                "empty only for whitespace");
      break;
    case actors::code_input::malformed:
      require(n.code.empty(), "malformed carries no code");
      break;
  }
  // The prefix of any name is [A-Z]{3,6}, and a code built from it is valid.
  auto prefix = actors::invite_prefix(raw);
  require(prefix.size() >= 3 && prefix.size() <= 6, "prefix length", prefix);
  auto code = prefix + "-ALPHA-ZULU";
  require(actors::valid_invite_code_format(code), "prefix makes a valid code", code);
  auto back = actors::normalize_invite_code(code);
  require(back.status == actors::code_input::ok && back.code == code, "generated code normalises to itself", code);
  // Dash-free typing of a generated code splits back (words are suffix-free).
  std::string dashless = prefix + "ALPHAZULU";
  auto split = actors::normalize_invite_code(dashless);
  if (dashless.size() >= 11 && dashless.size() <= 22)
    require(split.status == actors::code_input::ok, "dash-free code splits", dashless);
  return 0;
}
