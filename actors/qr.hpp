#pragma once
/// QR codes for joining a household (SPEC §4.4 `GET …/qr-code`): libqrencode
/// with error correction M, a 4-module quiet zone, dark modules on white,
/// scaled by a whole number of pixels per module into a square PNG of exactly
/// the asked size (centred, white padding), written with libpng to memory.

#include <caf/all.hpp>

#include <string>

#include "actors/accounts.hpp"
#include "actors/runtime.hpp"

namespace petcare::actors {

/// Smallest and largest PNG edge in pixels, and the default (SPEC §4.4).
inline constexpr int qr_min_size = 200;
inline constexpr int qr_max_size = 1000;
inline constexpr int qr_default_size = 400;
/// Light modules around the symbol (ISO/IEC 18004 quiet zone).
inline constexpr int qr_quiet_zone = 4;

/// `{PUBLIC_APP_URL}/households/join?code={code}` (a trailing `/` of the base is dropped).
std::string qr_join_url(const std::string& public_app_url, const std::string& code);

/// The PNG bytes of `text` as a `size`×`size` QR code; empty on failure
/// (text too long for a QR symbol, or size below the symbol's module count).
std::string qr_png(const std::string& text, int size);

/// Renders on the CPU pool (never on the caller's cooperative thread).
void render_qr(caf::event_based_actor* self, const runtime_ptr& rt, std::string text, int size,
               callback<std::string> done);

} // namespace petcare::actors
