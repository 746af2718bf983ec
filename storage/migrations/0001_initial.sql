-- 0001_initial: the whole domain model of SPEC §2 plus the §4.5 tables.
-- Applied by storage::migrate inside one transaction (no BEGIN/COMMIT here); the runner
-- creates schema_migrations itself. Target: PostgreSQL 15/16 (gen_random_uuid is built in).
-- Regexes use explicit ranges ([A-Z], [0-9a-f]): PostgreSQL compares range bounds by code
-- point, so these checks do not depend on the database's collation.

-- Shared guard functions ------------------------------------------------------------

-- I5 and the audit log's append-only rule: rows of protected tables are never deleted
-- (and audit rows never changed). Row triggers do not fire on TRUNCATE, which test
-- fixtures use to reset the database between tests.
CREATE FUNCTION forbid_row_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '% on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$fn$;

-- Join requests and email invites are terminal once they leave 'pending' (SPEC §3.3).
CREATE FUNCTION forbid_leaving_terminal_status() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF OLD.status <> 'pending' AND NEW.status IS DISTINCT FROM OLD.status THEN
    RAISE EXCEPTION '% status % is terminal', TG_TABLE_NAME, OLD.status
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$fn$;

-- users -------------------------------------------------------------------------------

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  display_name   text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz,
  -- stored trimmed and lower-cased, so UNIQUE(email) is case-insensitive uniqueness
  CONSTRAINT users_email_format CHECK (
    char_length(email) BETWEEN 3 AND 254 AND email = btrim(email)
    AND email !~ '[A-Z]' AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  CONSTRAINT users_password_hash_present CHECK (char_length(password_hash) > 0),
  CONSTRAINT users_display_name_length CHECK (
    char_length(display_name) BETWEEN 1 AND 50 AND display_name = btrim(display_name))
);

-- sessions ----------------------------------------------------------------------------

CREATE TABLE sessions (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- = JWT sid
  user_id                     uuid NOT NULL REFERENCES users (id),
  refresh_token_hash          text NOT NULL,
  previous_refresh_token_hash text,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  last_refreshed_at           timestamptz NOT NULL DEFAULT now(),
  expires_at                  timestamptz NOT NULL,
  revoked_at                  timestamptz,
  revoked_reason              text,
  user_agent                  text,
  ip_hash                     text,
  CONSTRAINT sessions_refresh_hash_hex CHECK (refresh_token_hash ~ '^[0-9a-f]{64}$'),
  CONSTRAINT sessions_previous_hash_hex CHECK (
    previous_refresh_token_hash IS NULL OR previous_refresh_token_hash ~ '^[0-9a-f]{64}$'),
  CONSTRAINT sessions_revoked_reason CHECK (revoked_reason IN ('logout', 'refresh_reuse')),
  -- a revocation always records why
  CONSTRAINT sessions_revoked_pair CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
  CONSTRAINT sessions_user_agent_length CHECK (char_length(user_agent) <= 200),
  CONSTRAINT sessions_ip_hash_hex CHECK (ip_hash ~ '^[0-9a-f]{16,64}$')
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- households --------------------------------------------------------------------------

CREATE TABLE households (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                   text NOT NULL,
  description            text,
  status                 text NOT NULL DEFAULT 'active',
  invite_code            text UNIQUE, -- the unique index serves lookups by code
  invite_code_expires_at timestamptz, -- null = never expires
  invite_code_created_at timestamptz NOT NULL DEFAULT now(),
  leader_id              uuid NOT NULL REFERENCES users (id), -- last leader once deactivated
  created_by             uuid NOT NULL REFERENCES users (id),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  deactivated_at         timestamptz,
  CONSTRAINT households_name_format CHECK (
    char_length(name) BETWEEN 2 AND 50 AND name ~ '^[A-Za-z0-9]+( [A-Za-z0-9]+)*$'),
  -- whitespace-only descriptions are stored as null, so an empty string never appears
  CONSTRAINT households_description_length CHECK (char_length(description) BETWEEN 1 AND 200),
  CONSTRAINT households_status CHECK (status IN ('active', 'deactivated')),
  CONSTRAINT households_invite_code_format CHECK (
    invite_code ~ '^[A-Z]{3,6}-[A-Z]{4,8}-[A-Z]{4,8}$'),
  CONSTRAINT households_code_iff_active CHECK ((status = 'active') = (invite_code IS NOT NULL)),
  CONSTRAINT households_deactivated_at CHECK (
    (status = 'deactivated') = (deactivated_at IS NOT NULL))
);
CREATE INDEX households_leader_idx ON households (leader_id);

CREATE TABLE retired_invite_codes (
  code         text PRIMARY KEY,
  household_id uuid NOT NULL REFERENCES households (id),
  reason       text NOT NULL,
  retired_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT retired_invite_codes_format CHECK (code ~ '^[A-Z]{3,6}-[A-Z]{4,8}-[A-Z]{4,8}$'),
  CONSTRAINT retired_invite_codes_reason CHECK (
    reason IN ('regenerated', 'household_deactivated'))
);
CREATE INDEX retired_invite_codes_household_idx ON retired_invite_codes (household_id);

-- A retired code is never issued again (SPEC §2). Raised as unique_violation so the
-- repository maps it to `conflict` and the generator redraws, exactly as for a clash
-- with another household's current code.
CREATE FUNCTION forbid_retired_invite_code() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.invite_code IS NOT NULL
     AND EXISTS (SELECT 1 FROM retired_invite_codes WHERE code = NEW.invite_code) THEN
    RAISE EXCEPTION 'invite code was retired'
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'households_invite_code_not_retired';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER households_invite_code_not_retired
  BEFORE INSERT OR UPDATE OF invite_code ON households
  FOR EACH ROW EXECUTE FUNCTION forbid_retired_invite_code();

-- email invites (before join requests, which reference them) ----------------------------

CREATE TABLE email_invites (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id     uuid NOT NULL REFERENCES households (id),
  sender_user_id   uuid NOT NULL REFERENCES users (id),
  email            text NOT NULL,
  token_hash       text NOT NULL UNIQUE,
  personal_message text,
  status           text NOT NULL DEFAULT 'pending',
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  accepted_at      timestamptz,
  accepted_by      uuid REFERENCES users (id),
  revoked_at       timestamptz,
  revoked_by       uuid REFERENCES users (id), -- null = revoked by the system
  CONSTRAINT email_invites_email_format CHECK (
    char_length(email) BETWEEN 3 AND 254 AND email = btrim(email)
    AND email !~ '[A-Z]' AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  CONSTRAINT email_invites_token_hash_hex CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  CONSTRAINT email_invites_message_length CHECK (char_length(personal_message) <= 500),
  CONSTRAINT email_invites_status CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
  CONSTRAINT email_invites_expiry_after_creation CHECK (expires_at > created_at),
  CONSTRAINT email_invites_accepted CHECK (
    (status = 'accepted') = (accepted_at IS NOT NULL)
    AND (status = 'accepted') = (accepted_by IS NOT NULL)),
  CONSTRAINT email_invites_revoked CHECK (
    (status = 'revoked') = (revoked_at IS NOT NULL)
    AND (revoked_by IS NULL OR status = 'revoked'))
);
CREATE UNIQUE INDEX email_invites_one_pending_per_email
  ON email_invites (household_id, email) WHERE status = 'pending';
CREATE INDEX email_invites_household_created_idx
  ON email_invites (household_id, created_at DESC, id DESC);
CREATE INDEX email_invites_pending_expiry_idx
  ON email_invites (expires_at) WHERE status = 'pending';
CREATE TRIGGER email_invites_no_delete
  BEFORE DELETE ON email_invites FOR EACH ROW EXECUTE FUNCTION forbid_row_change();
CREATE TRIGGER email_invites_terminal_status
  BEFORE UPDATE OF status ON email_invites
  FOR EACH ROW EXECUTE FUNCTION forbid_leaving_terminal_status();

-- join requests -------------------------------------------------------------------------

CREATE TABLE household_join_requests (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id    uuid NOT NULL REFERENCES households (id),
  user_id         uuid NOT NULL REFERENCES users (id),
  via             text NOT NULL,
  invite_code     text, -- normalised code used; audit only, never returned
  email_invite_id uuid REFERENCES email_invites (id),
  status          text NOT NULL DEFAULT 'pending',
  close_reason    text,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  responded_at    timestamptz,
  responded_by    uuid REFERENCES users (id),
  CONSTRAINT join_requests_via CHECK (via IN ('invite_code', 'email_invite')),
  CONSTRAINT join_requests_via_source CHECK (
    (via = 'invite_code') = (invite_code IS NOT NULL)
    AND (via = 'email_invite') = (email_invite_id IS NOT NULL)),
  CONSTRAINT join_requests_invite_code_format CHECK (
    invite_code ~ '^[A-Z]{3,6}-[A-Z]{4,8}-[A-Z]{4,8}$'),
  CONSTRAINT join_requests_status CHECK (
    status IN ('pending', 'approved', 'rejected', 'withdrawn')),
  CONSTRAINT join_requests_responded_iff_closed CHECK (
    (status = 'pending') = (responded_at IS NULL)),
  -- the system closes requests as withdrawn (user joined elsewhere) or rejected (deactivation)
  CONSTRAINT join_requests_close_reason CHECK (
    close_reason IS NULL
    OR (close_reason = 'joined_other_household' AND status = 'withdrawn')
    OR (close_reason = 'household_deactivated' AND status = 'rejected')),
  -- responded_by names the leader exactly when a leader approved or rejected
  CONSTRAINT join_requests_responded_by CHECK (
    (responded_by IS NOT NULL) = (status IN ('approved', 'rejected') AND close_reason IS NULL))
);
CREATE UNIQUE INDEX join_requests_one_pending_per_household_user
  ON household_join_requests (household_id, user_id) WHERE status = 'pending';
CREATE INDEX join_requests_household_status_idx
  ON household_join_requests (household_id, status, requested_at);
CREATE INDEX join_requests_user_requested_idx
  ON household_join_requests (user_id, requested_at);
CREATE TRIGGER join_requests_no_delete
  BEFORE DELETE ON household_join_requests FOR EACH ROW EXECUTE FUNCTION forbid_row_change();
CREATE TRIGGER join_requests_terminal_status
  BEFORE UPDATE OF status ON household_join_requests
  FOR EACH ROW EXECUTE FUNCTION forbid_leaving_terminal_status();

-- memberships (one row per membership period; rejoining adds a row) ----------------------

CREATE TABLE household_members (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id            uuid NOT NULL REFERENCES households (id),
  user_id                 uuid NOT NULL REFERENCES users (id),
  role                    text NOT NULL,
  status                  text NOT NULL DEFAULT 'active',
  is_temporary            boolean NOT NULL DEFAULT false,
  temporary_expires_at    timestamptz,
  invited_by              uuid REFERENCES users (id), -- null for the creator
  join_request_id         uuid REFERENCES household_join_requests (id),
  joined_at               timestamptz NOT NULL DEFAULT now(),
  ended_at                timestamptz,
  ended_by                uuid REFERENCES users (id), -- null = ended by the system
  welcome_pending         boolean NOT NULL DEFAULT false,
  welcome_acknowledged_at timestamptz,
  last_warning_days       integer,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT members_role CHECK (role IN ('leader', 'member')),
  CONSTRAINT members_status CHECK (status IN ('active', 'removed', 'left', 'expired')),
  CONSTRAINT members_temporary_has_end CHECK (
    is_temporary = (temporary_expires_at IS NOT NULL)),
  CONSTRAINT members_leader_not_temporary CHECK (role <> 'leader' OR NOT is_temporary),
  CONSTRAINT members_active_iff_not_ended CHECK ((status = 'active') = (ended_at IS NULL)),
  CONSTRAINT members_warning_level CHECK (
    last_warning_days IS NULL OR (last_warning_days IN (7, 3, 1) AND is_temporary)),
  CONSTRAINT members_welcome CHECK (
    NOT (welcome_pending AND welcome_acknowledged_at IS NOT NULL))
);
-- one household per user (I3) and one leader per household (I1)
CREATE UNIQUE INDEX members_one_active_per_user
  ON household_members (user_id) WHERE status = 'active';
CREATE UNIQUE INDEX members_one_active_leader_per_household
  ON household_members (household_id) WHERE status = 'active' AND role = 'leader';
CREATE INDEX members_household_status_idx ON household_members (household_id, status);
CREATE INDEX members_user_status_idx ON household_members (user_id, status);
CREATE INDEX members_temporary_expiry_idx
  ON household_members (temporary_expires_at) WHERE status = 'active' AND is_temporary;
CREATE TRIGGER members_no_delete
  BEFORE DELETE ON household_members FOR EACH ROW EXECUTE FUNCTION forbid_row_change();

-- email outbox (leased; SPEC §7.3) ------------------------------------------------------

CREATE TABLE email_outbox (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email_invite_id  uuid REFERENCES email_invites (id),
  to_address       text NOT NULL,
  subject          text NOT NULL,
  body_nonce       bytea NOT NULL, -- AEAD nonce for body_ciphertext
  body_ciphertext  bytea NOT NULL, -- text + HTML parts sealed with ENCRYPTION_KEY
  message_id       text NOT NULL UNIQUE, -- stable across retries
  status           text NOT NULL DEFAULT 'pending',
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  CONSTRAINT email_outbox_status CHECK (
    status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
  CONSTRAINT email_outbox_attempts CHECK (attempts >= 0),
  CONSTRAINT email_outbox_lease_pair CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL)),
  CONSTRAINT email_outbox_sending_leased CHECK (status <> 'sending' OR lease_owner IS NOT NULL),
  CONSTRAINT email_outbox_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
  CONSTRAINT email_outbox_to_length CHECK (char_length(to_address) BETWEEN 3 AND 254)
);
CREATE INDEX email_outbox_due_idx ON email_outbox (status, next_attempt_at);
CREATE INDEX email_outbox_invite_idx ON email_outbox (email_invite_id);

-- notifications -------------------------------------------------------------------------

CREATE TABLE notifications (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id),
  type       text NOT NULL,
  title      text NOT NULL,
  body       text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  read_at    timestamptz,
  CONSTRAINT notifications_type CHECK (type IN (
    'join_request_received', 'join_request_approved', 'join_request_rejected',
    'member_removed', 'leadership_transferred',
    'temporary_access_expiring', 'temporary_access_expired')),
  CONSTRAINT notifications_data_object CHECK (jsonb_typeof(data) = 'object')
);
CREATE INDEX notifications_user_created_idx
  ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_user_unread_idx
  ON notifications (user_id, created_at DESC, id DESC) WHERE read_at IS NULL;
CREATE INDEX notifications_created_idx ON notifications (created_at); -- retention sweep

-- audit log (append-only) ---------------------------------------------------------------

CREATE TABLE audit_log (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id   uuid REFERENCES households (id),
  actor_user_id  uuid REFERENCES users (id), -- null = system
  action         text NOT NULL,
  target_user_id uuid REFERENCES users (id),
  subject_id     uuid, -- request, invite or webhook id
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT audit_log_action CHECK (action IN (
    'household.created', 'household.updated', 'household.deactivated',
    'invite_code.regenerated',
    'join_request.created', 'join_request.withdrawn', 'join_request.approved',
    'join_request.rejected', 'join_request.closed',
    'member.removed', 'member.left', 'leadership.transferred',
    'temporary_access.extended', 'temporary_access.expired',
    'email_invite.sent', 'email_invite.revoked', 'email_invite.accepted',
    'authorization.denied', 'webhook.created', 'webhook.deleted')),
  CONSTRAINT audit_log_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
  CONSTRAINT audit_log_request_id_length CHECK (char_length(request_id) BETWEEN 1 AND 200)
);
CREATE INDEX audit_log_household_created_idx
  ON audit_log (household_id, created_at DESC, id DESC);
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION forbid_row_change();

-- webhooks (SPEC §4.5) -------------------------------------------------------------------

CREATE TABLE webhooks (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_id      uuid NOT NULL REFERENCES households (id),
  url               text NOT NULL,
  events            text[] NOT NULL,
  secret_nonce      bytea NOT NULL, -- AEAD nonce for secret_ciphertext
  secret_ciphertext bytea NOT NULL, -- signing secret sealed with ENCRYPTION_KEY
  active            boolean NOT NULL DEFAULT true,
  created_by        uuid NOT NULL REFERENCES users (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz, -- DELETE …/webhooks/{wid} keeps the row for its deliveries
  CONSTRAINT webhooks_url_scheme CHECK (
    url ~ '^https?://' AND char_length(url) <= 2048),
  CONSTRAINT webhooks_events_known CHECK (
    cardinality(events) >= 1 AND events <@ ARRAY[
      'household.updated', 'household.deactivated', 'member.added', 'member.removed',
      'member.left', 'member.expired', 'join_request.created', 'join_request.approved',
      'join_request.rejected', 'invite_code.regenerated', 'leadership.transferred']::text[]),
  CONSTRAINT webhooks_deleted_inactive CHECK (deleted_at IS NULL OR NOT active)
);
CREATE INDEX webhooks_household_idx ON webhooks (household_id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(), -- X-Household-Delivery
  webhook_id       uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  household_id     uuid NOT NULL REFERENCES households (id),
  event            text NOT NULL,
  payload          jsonb NOT NULL, -- the exact JSON body, signed anew on each attempt
  status           text NOT NULL DEFAULT 'pending',
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  CONSTRAINT webhook_deliveries_status CHECK (
    status IN ('pending', 'sending', 'delivered', 'failed')),
  CONSTRAINT webhook_deliveries_attempts CHECK (attempts >= 0),
  CONSTRAINT webhook_deliveries_lease_pair CHECK (
    (lease_owner IS NULL) = (lease_expires_at IS NULL)),
  CONSTRAINT webhook_deliveries_sending_leased CHECK (
    status <> 'sending' OR lease_owner IS NOT NULL),
  CONSTRAINT webhook_deliveries_delivered_at CHECK (
    (status = 'delivered') = (delivered_at IS NOT NULL)),
  CONSTRAINT webhook_deliveries_status_code CHECK (last_status_code BETWEEN 100 AND 599),
  CONSTRAINT webhook_deliveries_payload_object CHECK (jsonb_typeof(payload) = 'object')
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook_created_idx
  ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- idempotency keys (SPEC §4.5) ----------------------------------------------------------

CREATE TABLE idempotency_keys (
  key             text NOT NULL,
  owner           text NOT NULL, -- user id, or 'ip:' || ip hash when unauthenticated
  method          text NOT NULL,
  route           text NOT NULL,
  body_sha256     text NOT NULL,
  status          text NOT NULL DEFAULT 'in_progress',
  response_status integer,
  response_body   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (owner, key),
  CONSTRAINT idempotency_keys_key_format CHECK (key ~ '^[!-~]{1,255}$'),
  CONSTRAINT idempotency_keys_method CHECK (method IN ('POST', 'PATCH')),
  CONSTRAINT idempotency_keys_body_sha256_hex CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
  CONSTRAINT idempotency_keys_status CHECK (status IN ('in_progress', 'done')),
  CONSTRAINT idempotency_keys_response CHECK (
    (status = 'done') = (response_status IS NOT NULL)
    AND (response_body IS NULL OR status = 'done')),
  CONSTRAINT idempotency_keys_response_status CHECK (response_status BETWEEN 100 AND 599)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
