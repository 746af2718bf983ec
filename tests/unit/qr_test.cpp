// QR codes (SPEC §4.4) and the pure rules of email delivery (SPEC §3.8, §7.3):
// PNG geometry and decoding, invitation content, sealing, MIME, SMTP outcome
// classification and the retry schedule.

#include <png.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "actors/mailer.hpp"
#include "actors/outbox.hpp"
#include "actors/qr.hpp"
#include "storage/crypto.hpp"
#include "storage/invites.hpp"
#include "storage/outbox.hpp"

using namespace petcare;

namespace {

const std::string join_url = "https://app.example.com/households/join?code=SMITH-ALPHA-BRAVO";

struct gray_image {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> pixels; ///< 8-bit grey, row-major
  unsigned char at(int x, int y) const { return pixels[static_cast<size_t>(y * width + x)]; }
};

/// Decodes a PNG with libpng's simplified API; width 0 when it is not one.
gray_image decode(const std::string& png_bytes) {
  gray_image out;
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&img, png_bytes.data(), png_bytes.size()))
    return out;
  img.format = PNG_FORMAT_GRAY;
  out.pixels.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.pixels.data(), 0, nullptr)) {
    png_image_free(&img);
    return out;
  }
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  return out;
}

/// Output of `cmd` (popen), empty when it cannot run.
std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 512> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
      out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

bool have_zbarimg() { return std::system("command -v zbarimg >/dev/null 2>&1") == 0; }

std::string decode_base64(const std::string& b64) {
  // base64 → bytes through the url-safe decoder.
  std::string url;
  for (char ch : b64)
    if (ch == '+')
      url += '-';
    else if (ch == '/')
      url += '_';
    else if (ch != '=' && ch != '\r' && ch != '\n')
      url += ch;
  return storage::crypto::base64url_decode(url).value_or("");
}

} // namespace

BOOST_AUTO_TEST_SUITE(qr_tests)

BOOST_AUTO_TEST_CASE(png_is_a_square_of_exactly_the_asked_size) {
  for (int size : {200, 333, 400, 1000}) {
    auto png = actors::qr_png(join_url, size);
    BOOST_TEST_REQUIRE(png.size() > 8u);
    BOOST_TEST(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    auto img = decode(png);
    BOOST_TEST(img.width == size);
    BOOST_TEST(img.height == size);
  }
}

BOOST_AUTO_TEST_CASE(dark_on_white_centred_with_a_four_module_quiet_zone) {
  const int size = 400;
  auto img = decode(actors::qr_png(join_url, size));
  BOOST_TEST_REQUIRE(img.width == size);
  int left = size, right = -1, top = size, bottom = -1;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      auto v = img.at(x, y);
      BOOST_TEST_REQUIRE((v == 0 || v == 255), "only black and white pixels");
      if (v == 0) {
        left = std::min(left, x), right = std::max(right, x);
        top = std::min(top, y), bottom = std::max(bottom, y);
      }
    }
  BOOST_TEST_REQUIRE(right > left);
  int symbol = right - left + 1;
  BOOST_TEST(symbol == bottom - top + 1);
  // The top-left finder pattern is 7 modules wide: its first dark run gives the scale.
  int run_len = 0;
  while (img.at(left + run_len, top) == 0)
    ++run_len;
  BOOST_TEST_REQUIRE(run_len % 7 == 0);
  int scale = run_len / 7;
  BOOST_TEST(symbol % scale == 0);
  int modules = symbol / scale;
  BOOST_TEST((modules - 21) % 4 == 0, "a QR version's width: " << modules);
  // Integer scale: the largest that fits the symbol and its quiet zone.
  BOOST_TEST(scale == size / (modules + 8));
  BOOST_TEST(left >= 4 * scale);
  BOOST_TEST(top >= 4 * scale);
  BOOST_TEST(std::abs(left - (size - 1 - right)) <= 1, "centred horizontally");
  BOOST_TEST(std::abs(top - (size - 1 - bottom)) <= 1, "centred vertically");
}

BOOST_AUTO_TEST_CASE(decodes_to_the_join_url) {
  if (!have_zbarimg()) {
    BOOST_TEST_MESSAGE("zbarimg not installed (apt package zbar-tools): decoding skipped");
    return;
  }
  for (int size : {200, 400, 1000}) {
    char path[] = "/tmp/qr-test-XXXXXX";
    int fd = ::mkstemp(path);
    BOOST_TEST_REQUIRE(fd >= 0);
    ::close(fd);
    std::string file = std::string{path} + ".png";
    {
      std::ofstream out{file, std::ios::binary};
      out << actors::qr_png(join_url, size);
    }
    auto text = run("zbarimg --quiet --raw '" + file + "' 2>/dev/null");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
      text.pop_back();
    BOOST_TEST(text == join_url, "size " << size);
    std::remove(file.c_str());
    std::remove(path);
  }
}

BOOST_AUTO_TEST_CASE(join_url_drops_a_trailing_slash) {
  BOOST_TEST(actors::qr_join_url("https://app.example.com/", "ZEDER-ALPHA-ZULU")
             == "https://app.example.com/households/join?code=ZEDER-ALPHA-ZULU");
  BOOST_TEST(actors::qr_png("", 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(email_delivery_rules)

BOOST_AUTO_TEST_CASE(invitation_names_everything_and_escapes_html) {
  storage::outbox::invite_mail m;
  m.sender_name = "Ann <script>";
  m.household_name = "Smith Family";
  m.description = "Cats & \"dogs\"";
  m.personal_message = "Come join!\n<b>Really</b>";
  m.expires = "February 16, 2026 10:30 UTC";
  m.invite_url = storage::invites::invite_url("https://app.example.com/", "tok_EN-123");
  BOOST_TEST(m.invite_url == "https://app.example.com/households/join?invite=tok_EN-123");
  auto c = storage::outbox::compose_invite(m);
  BOOST_TEST(c.subject == "Ann <script> invited you to join Smith Family");
  for (auto& part : {c.text, c.html}) {
    BOOST_TEST(part.find("Smith Family") != std::string::npos);
    BOOST_TEST(part.find(m.invite_url) != std::string::npos);
    BOOST_TEST(part.find(m.expires) != std::string::npos);
  }
  BOOST_TEST(c.text.find("Ann <script>") != std::string::npos);
  BOOST_TEST(c.text.find("<b>Really</b>") != std::string::npos);
  BOOST_TEST(c.html.find("<script>") == std::string::npos);
  BOOST_TEST(c.html.find("Ann &lt;script&gt;") != std::string::npos);
  BOOST_TEST(c.html.find("Cats &amp; &quot;dogs&quot;") != std::string::npos);
  BOOST_TEST(c.html.find("&lt;b&gt;Really&lt;/b&gt;") != std::string::npos);
  BOOST_TEST(c.html.find("SMITH-") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(sealed_bodies_open_only_with_key_and_outbox_id) {
  std::string key(32, '\x07');
  auto s = storage::outbox::seal(key, "{\"text\":\"hi\"}", "id-1");
  BOOST_TEST(s.nonce.size() == 24u);
  BOOST_TEST(s.ciphertext.find("hi") == std::string::npos);
  BOOST_TEST(storage::outbox::open(key, s, "id-1").value_or("") == "{\"text\":\"hi\"}");
  BOOST_TEST(!storage::outbox::open(key, s, "id-2"));
  BOOST_TEST(!storage::outbox::open(std::string(32, '\x08'), s, "id-1"));
}

BOOST_AUTO_TEST_CASE(mime_message_carries_headers_and_both_parts) {
  storage::outbox::message m;
  m.id = "0b7d4c4e-0000-4000-8000-000000000001";
  m.to = "bob@example.com";
  m.subject = "Zoë invited you to join Smith Family";
  m.text = "text part https://x/households/join?invite=abc";
  m.html = "<p>html part</p>";
  m.message_id = "<" + m.id + "@example.org>";
  auto mime = actors::mail::mime_message(m, "noreply@example.org", 1770000000000);
  BOOST_TEST(mime.find("From: noreply@example.org\r\n") == 0u);
  BOOST_TEST(mime.find("\r\nTo: bob@example.com\r\n") != std::string::npos);
  BOOST_TEST(mime.find("\r\nMessage-ID: " + m.message_id + "\r\n") != std::string::npos);
  BOOST_TEST(mime.find("\r\nSubject: =?UTF-8?B?") != std::string::npos);
  BOOST_TEST(mime.find("\r\nDate: ") != std::string::npos);
  auto body_at = mime.find("base64\r\n\r\n");
  BOOST_TEST_REQUIRE(body_at != std::string::npos);
  auto end = mime.find("\r\n--", body_at);
  BOOST_TEST(decode_base64(mime.substr(body_at + 10, end - body_at - 10)) == m.text);
}

BOOST_AUTO_TEST_CASE(smtp_outcomes_and_retry_schedule) {
  using actors::mail::classify_smtp;
  BOOST_TEST(classify_smtp(0, 250, "").ok);
  auto hard = classify_smtp(55, 550, "RCPT failed: 550 <bob@example.com> unknown");
  BOOST_TEST(!hard.ok);
  BOOST_TEST(hard.permanent);
  BOOST_TEST(hard.error.find("SMTP 550") == 0u);
  BOOST_TEST(hard.error.find('@') == std::string::npos, hard.error);
  auto soft = classify_smtp(56, 451, "try later");
  BOOST_TEST(!soft.permanent);
  BOOST_TEST(soft.error.find("SMTP 451") == 0u);
  BOOST_TEST(!classify_smtp(7, 0, "Couldn't connect").permanent);

  using actors::delivery_step;
  BOOST_TEST((actors::next_step(true, false, 8, 8) == delivery_step::sent));
  BOOST_TEST((actors::next_step(false, true, 1, 8) == delivery_step::failed));
  BOOST_TEST((actors::next_step(false, false, 7, 8) == delivery_step::retry));
  BOOST_TEST((actors::next_step(false, false, 8, 8) == delivery_step::failed));

  BOOST_TEST(actors::retry_delay_ms(1, 30000, 3600000, 0.5) == 30000);
  BOOST_TEST(actors::retry_delay_ms(3, 30000, 3600000, 0.5) == 120000);
  BOOST_TEST(actors::retry_delay_ms(1, 30000, 3600000, 0.0) == 24000);
  BOOST_TEST(actors::retry_delay_ms(1, 30000, 3600000, 1.0) == 36000);
  BOOST_TEST(actors::retry_delay_ms(30, 30000, 3600000, 0.5) == 3600000);
  BOOST_TEST(actors::retry_delay_ms(100, 30000, 3600000, 1.0) == 4320000);
}

BOOST_AUTO_TEST_SUITE_END()
