#include "actors/qr.hpp"

#include <png.h>
#include <qrencode.h>

#include <csetjmp>
#include <memory>
#include <vector>

#include "actors/messages.hpp"
#include "actors/pool.hpp"

namespace petcare::actors {

namespace {

void append_png(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void flush_png(png_structp) {}

/// Writes `rows` (8-bit grey, `size` bytes each) as a PNG into `out`. Kept
/// free of objects with destructors because libpng reports errors by longjmp.
bool write_png(png_structp png, png_infop info, png_bytepp rows, png_uint_32 size, std::string* out) {
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_set_write_fn(png, out, append_png, flush_png);
  png_set_IHDR(png, info, size, size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  return true;
}

struct qr_deleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

} // namespace

std::string qr_join_url(const std::string& public_app_url, const std::string& code) {
  auto base = public_app_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + "/households/join?code=" + code;
}

std::string qr_png(const std::string& text, int size) {
  std::unique_ptr<QRcode, qr_deleter> qr{QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1)};
  if (!qr || size <= 0)
    return {};
  const int modules = qr->width + 2 * qr_quiet_zone;
  const int scale = size / modules;
  if (scale < 1)
    return {};
  const int offset = (size - scale * modules) / 2 + qr_quiet_zone * scale;
  const int symbol = qr->width * scale;
  // White everywhere, then the dark modules of the symbol (bit 0 of each byte).
  std::vector<unsigned char> pixels(static_cast<size_t>(size) * static_cast<size_t>(size), 0xFF);
  for (int y = 0; y < symbol; ++y) {
    const unsigned char* row = qr->data + (y / scale) * qr->width;
    unsigned char* dst = pixels.data() + static_cast<size_t>(offset + y) * static_cast<size_t>(size);
    for (int x = 0; x < symbol; ++x)
      if (row[x / scale] & 1)
        dst[offset + x] = 0x00;
  }
  std::vector<png_bytep> rows(static_cast<size_t>(size));
  for (int y = 0; y < size; ++y)
    rows[static_cast<size_t>(y)] = pixels.data() + static_cast<size_t>(y) * static_cast<size_t>(size);

  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr)
    return {};
  png_infop info = png_create_info_struct(png);
  bool ok = info != nullptr && write_png(png, info, rows.data(), static_cast<png_uint_32>(size), &out);
  png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
  return ok ? out : std::string{};
}

void render_qr(caf::event_based_actor* self, const runtime_ptr& rt, std::string text, int size,
               callback<std::string> done) {
  auto pool = rt->hasher();
  if (!pool) {
    done(storage::make_error(storage::errc::unavailable));
    return;
  }
  self
    ->request(pool, std::chrono::milliseconds{rt->cfg.request_timeout_ms}, atom::exec_v,
              make_job<storage::connection>([text, size](storage::connection&) -> caf::expected<std::string> {
                auto png = qr_png(text, size);
                if (png.empty())
                  return storage::make_error(storage::errc::query_failed);
                return png;
              }))
    .then([done](std::string& png) { done(std::move(png)); }, [done](caf::error& e) { done(std::move(e)); });
}

} // namespace petcare::actors
