-- Users without a household for the join/approve measurements at scale
-- (after tests/bench/seed.sql): :j joiners (one real join each) and :l
-- lookers (lookups of codes that exist nowhere). Session id = user id.
--   psql "$DATABASE_URL" -v j=40000 -v l=200 -f tests/bench/scale/seed_joiners.sql
BEGIN;
CREATE TEMP TABLE new_users AS
  SELECT gen_random_uuid() AS id, 'joiner' || g || '@bench.invalid' AS email FROM generate_series(1, :j) g
  UNION ALL
  SELECT gen_random_uuid(), 'looker' || g || '@bench.invalid' FROM generate_series(1, :l) g;
INSERT INTO users (id, email, password_hash, display_name)
  SELECT id, email, '$argon2id$v=19$m=8,t=1,p=1$c2VlZHNlZWQ$c2VlZA', 'Joiner' FROM new_users;
INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at)
  SELECT id, id, repeat('0', 64), now() + interval '30 days' FROM new_users;
COMMIT;
ANALYZE users;
ANALYZE sessions;
