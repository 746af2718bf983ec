#pragma once
/// HS256 access tokens and refresh tokens (SPEC §4.3, §9).
///
/// Written on libsodium's HMAC-SHA-256 rather than a JWT library: the contract
/// allows exactly one algorithm and four claims, and owning the ~80 lines makes
/// every rejection explicit (alg confusion, `none`, missing or extra-typed claims)
/// and keeps the signature comparison constant-time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace petcare::actors {

struct access_claims {
  std::string sub;
  std::string sid;
  int64_t iat = 0;
  int64_t exp = 0;
};

std::string sign_access_token(std::string_view secret, const access_claims& c);

enum class token_status { ok, malformed, bad_signature, bad_claims, expired };

struct token_check {
  token_status status = token_status::malformed;
  access_claims claims;
};

/// Checks signature, then claims (incl. `iat` ≤ now + 60 s), then `exp` > now.
token_check verify_access_token(std::string_view secret, std::string_view token, int64_t now_s);

/// A refresh token `{sid}.{secret}` and the SHA-256 of its secret part.
struct refresh_token {
  std::string token;
  std::string secret_hash;
};

refresh_token make_refresh_token(const std::string& sid);

/// Splits `{sid}.{secret}`; nullopt when it is not of that shape.
struct refresh_parts {
  std::string sid;
  std::string secret_hash;
};
std::optional<refresh_parts> parse_refresh_token(std::string_view token);

} // namespace petcare::actors
