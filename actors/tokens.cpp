#include "actors/tokens.hpp"

#include <nlohmann/json.hpp>

#include "actors/validation.hpp"
#include "storage/crypto.hpp"

namespace petcare::actors {

namespace crypto = storage::crypto;

namespace {

const std::string& header_b64() {
  static const std::string h = crypto::base64url(R"({"alg":"HS256","typ":"JWT"})");
  return h;
}

bool is_int(const nlohmann::json& j) {
  return j.is_number_integer() || j.is_number_unsigned();
}

} // namespace

std::string sign_access_token(std::string_view secret, const access_claims& c) {
  nlohmann::json payload{{"sub", c.sub}, {"sid", c.sid}, {"iat", c.iat}, {"exp", c.exp}};
  auto signing_input = header_b64() + '.' + crypto::base64url(payload.dump());
  return signing_input + '.' + crypto::base64url(crypto::hmac_sha256(secret, signing_input));
}

token_check verify_access_token(std::string_view secret, std::string_view token, int64_t now_s) {
  token_check out;
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return out;
  auto header = crypto::base64url_decode(token.substr(0, d1));
  auto payload = crypto::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = crypto::base64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !signature)
    return out;
  auto h = nlohmann::json::parse(*header, nullptr, false);
  if (h.is_discarded() || !h.is_object())
    return out;
  // Only HS256 is accepted: "none", RS256 or a missing alg never reach the HMAC.
  auto alg = h.find("alg");
  if (alg == h.end() || !alg->is_string() || *alg != "HS256") {
    out.status = token_status::bad_signature;
    return out;
  }
  auto expected = crypto::hmac_sha256(secret, token.substr(0, d2));
  if (!crypto::equal(expected, *signature)) {
    out.status = token_status::bad_signature;
    return out;
  }
  auto p = nlohmann::json::parse(*payload, nullptr, false);
  out.status = token_status::bad_claims;
  if (p.is_discarded() || !p.is_object())
    return out;
  auto sub = p.find("sub"), sid = p.find("sid"), iat = p.find("iat"), exp = p.find("exp");
  if (sub == p.end() || sid == p.end() || iat == p.end() || exp == p.end() || !sub->is_string()
      || !sid->is_string() || !is_int(*iat) || !is_int(*exp))
    return out;
  auto sub_id = normalize_uuid(sub->get<std::string>());
  auto sid_id = normalize_uuid(sid->get<std::string>());
  if (!sub_id || !sid_id)
    return out;
  out.claims = {*sub_id, *sid_id, iat->get<int64_t>(), exp->get<int64_t>()};
  if (out.claims.iat > now_s + 60)
    return out;
  out.status = out.claims.exp <= now_s ? token_status::expired : token_status::ok;
  return out;
}

refresh_token make_refresh_token(const std::string& sid) {
  auto secret = crypto::base64url(crypto::random_bytes(32));
  return {sid + '.' + secret, crypto::sha256_hex(secret)};
}

std::optional<refresh_parts> parse_refresh_token(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  auto sid = normalize_uuid(token.substr(0, dot));
  auto secret = token.substr(dot + 1);
  if (!sid || secret.size() != 43)
    return std::nullopt;
  return refresh_parts{*sid, crypto::sha256_hex(secret)};
}

} // namespace petcare::actors
