-- History rows for the scale run (after tests/bench/seed.sql): every table an
-- endpoint or a background job reads gets as many rows as there are seeded
-- households, so query plans are those of a large installation (on tiny
-- tables the planner rightly prefers a sequential scan, which proves nothing).
--   psql "$DATABASE_URL" -f tests/bench/seed_history.sql
-- Per seeded household: one household.created audit row, one notification for
-- its leader, one rejected join request from the next household's leader, one
-- expired email invite with a sent outbox row, one retired invite code and
-- one idempotency key. Statements run one by one
-- (autocommit); each prints its time.
\timing on
SET synchronous_commit = off;
CREATE TEMP TABLE seed_h AS
  SELECT h.id, h.leader_id, h.invite_code, h.created_at,
         coalesce(lead(h.leader_id) OVER w,
                  (SELECT leader_id FROM households WHERE name LIKE 'Seed House %' ORDER BY id LIMIT 1))
           AS other_user,
         row_number() OVER w AS g
  FROM households h
  WHERE h.name LIKE 'Seed House %'
  WINDOW w AS (ORDER BY h.id);
INSERT INTO audit_log (household_id, actor_user_id, action, request_id, created_at)
  SELECT id, leader_id, 'household.created', 'seed', created_at FROM seed_h;
INSERT INTO notifications (user_id, type, title, body, data, created_at, read_at)
  SELECT leader_id, 'join_request_received', 'New join request', 'Seed wants to join your household',
         jsonb_build_object('householdId', id), now() - interval '1 day',
         CASE WHEN g % 2 = 0 THEN now() END
  FROM seed_h;
INSERT INTO household_join_requests (household_id, user_id, via, invite_code, status, requested_at,
                                     responded_at, responded_by)
  SELECT id, other_user, 'invite_code', invite_code, 'rejected', now() - interval '2 days',
         now() - interval '1 day', leader_id
  FROM seed_h;
INSERT INTO email_invites (id, household_id, sender_user_id, email, token_hash, status, created_at, expires_at)
  SELECT id, id, leader_id, 'invitee' || g || '@bench.invalid',
         encode(sha256(convert_to('seed-invite-' || id::text, 'UTF8')), 'hex'), 'expired',
         now() - interval '20 days', now() - interval '6 days'
  FROM seed_h;
INSERT INTO email_outbox (email_invite_id, to_address, subject, body_nonce, body_ciphertext, message_id,
                          status, attempts, next_attempt_at, created_at, sent_at)
  SELECT id, 'invitee' || g || '@bench.invalid', 'Invitation', '\x00'::bytea, '\x00'::bytea,
         '<' || id::text || '@bench.invalid>', 'sent', 1, now() - interval '20 days',
         now() - interval '20 days', now() - interval '20 days'
  FROM seed_h;
-- Retired codes (5-letter prefixes: never equal to a seeded code) and
-- idempotency keys of the last 24 h, one per household.
INSERT INTO retired_invite_codes (code, household_id, reason, retired_at)
  SELECT chr(65 + (g / 456976) % 26) || chr(65 + (g / 17576) % 26) || chr(65 + (g / 676) % 26)
           || chr(65 + (g / 26) % 26) || chr(65 + g % 26) || '-ALPHA-BRAVO',
         id, 'regenerated', now() - interval '3 days'
  FROM (SELECT id, g::int AS g FROM seed_h) s;
INSERT INTO idempotency_keys (key, owner, method, route, body_sha256, status, response_status,
                              response_body, created_at, expires_at)
  SELECT 'seed-' || g, leader_id::text, 'PATCH', '/v1/households/{householdId}', repeat('0', 64),
         'done', 200, '{}', now() - interval '1 hour', now() + interval '23 hours'
  FROM seed_h;
ANALYZE;
