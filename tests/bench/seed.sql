-- Seeds :n households, each with one leader, straight in SQL (for scale and
-- memory measurements). Users get the session id = user id, so tokens can be
-- signed offline with the service's JWT_SECRET.
--   psql "$DATABASE_URL" -v n=100000 -f tests/bench/seed.sql
BEGIN;
CREATE TEMP TABLE seed_ids AS
  SELECT g, gen_random_uuid() AS user_id, gen_random_uuid() AS household_id
  FROM generate_series(1, :n) AS g;
INSERT INTO users (id, email, password_hash, display_name)
  SELECT user_id, 'seed' || g || '@bench.invalid', '$argon2id$v=19$m=8,t=1,p=1$c2VlZHNlZWQ$c2VlZA', 'Seed ' || g
  FROM seed_ids;
INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at)
  SELECT user_id, user_id, repeat('0', 64), now() + interval '30 days' FROM seed_ids;
-- Codes: 3 letters derived from g in base 26 + two fixed words keep them unique and well-formed.
INSERT INTO households (id, name, invite_code, invite_code_expires_at, leader_id, created_by)
  SELECT household_id, 'Seed House ' || g,
         chr(65 + (g / 676) % 26) || chr(65 + (g / 26) % 26) || chr(65 + g % 26)
           || chr(65 + (g / 17576) % 26) || '-ALPHA-' ||
         (ARRAY['BRAVO','CHARLIE','DELTA','ECHO','FOXTROT','GOLF','HOTEL','INDIA'])[1 + (g / 456976) % 8],
         now() + interval '30 days', user_id, user_id
  FROM seed_ids;
INSERT INTO household_members (household_id, user_id, role)
  SELECT household_id, user_id, 'leader' FROM seed_ids;
COMMIT;
ANALYZE;
