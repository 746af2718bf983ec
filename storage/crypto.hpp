#pragma once
/// Cryptographic primitives, all from libsodium: CSPRNG, SHA-256, HMAC-SHA-256,
/// constant-time comparison, base64url and argon2id password hashing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace petcare::storage::crypto {

/// Initialises libsodium; safe to call many times from any thread.
void init();

/// `n` bytes from the CSPRNG.
std::string random_bytes(size_t n);

/// base64url without padding (RFC 4648 §5), as used by JWTs and tokens.
std::string base64url(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

/// Standard base64 with padding.
std::string base64(std::string_view bytes);

/// Lowercase hex.
std::string hex(std::string_view bytes);

/// Lowercase hex of SHA-256 over `data`.
std::string sha256_hex(std::string_view data);

/// Raw 32-byte HMAC-SHA-256 (any key length).
std::string hmac_sha256(std::string_view key, std::string_view message);

/// Constant-time equality (false when the lengths differ).
bool equal(std::string_view a, std::string_view b);

/// argon2id encoded hash; empty string when libsodium runs out of memory.
std::string hash_password(std::string_view password, uint64_t opslimit, uint64_t memlimit_kib);

/// True when `encoded` is an argon2id hash of `password`.
bool verify_password(const std::string& encoded, std::string_view password);

/// True when `encoded` was made with a lower cost than the current one.
bool password_needs_rehash(const std::string& encoded, uint64_t opslimit, uint64_t memlimit_kib);

/// 16 hex characters of HMAC-SHA-256 keyed from the encryption key: how IPs appear in logs.
std::string ip_hash(std::string_view encryption_key, std::string_view ip);

} // namespace petcare::storage::crypto
