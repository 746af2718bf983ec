#include "storage/crypto.hpp"

#include <sodium.h>

#include <stdexcept>

namespace petcare::storage::crypto {

void init() {
  static const int rc = sodium_init();
  if (rc < 0)
    throw std::runtime_error("libsodium failed to initialise");
}

std::string random_bytes(size_t n) {
  init();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

namespace {

std::string encode64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1); // drop the terminating NUL
  return out;
}

} // namespace

std::string base64url(std::string_view bytes) {
  return encode64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string base64(std::string_view bytes) {
  return encode64(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        != 0
      || end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

std::string hex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_password(std::string_view password, uint64_t opslimit, uint64_t memlimit_kib) {
  init();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), opslimit,
                            static_cast<size_t>(memlimit_kib) * 1024u,
                            crypto_pwhash_ALG_ARGON2ID13)
      != 0)
    return {};
  return out;
}

bool verify_password(const std::string& encoded, std::string_view password) {
  init();
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& encoded, uint64_t opslimit, uint64_t memlimit_kib) {
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), opslimit,
                                        static_cast<size_t>(memlimit_kib) * 1024u)
         != 0;
}

std::string ip_hash(std::string_view encryption_key, std::string_view ip) {
  return hex(hmac_sha256(encryption_key, ip)).substr(0, 16);
}

} // namespace petcare::storage::crypto
