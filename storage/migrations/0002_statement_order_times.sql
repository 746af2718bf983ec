-- Entries written by one transaction share its created_at (now() is the
-- transaction's start, like every other row it writes), so "newest first" fell
-- back to the random id and a leader leaving listed member.left and
-- leadership.transferred in either order. New audit and notification ids are
-- UUIDv7 with sub-millisecond precision (RFC 9562 §6.2, method 3) from the
-- statement clock: ordered by insertion, so (created_at DESC, id DESC) lists one
-- transaction's rows newest first. Expand-only: old binaries insert the same way.
CREATE FUNCTION petcare_uuid_v7() RETURNS uuid
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  us  bigint := floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
  ms  bigint := us / 1000;
  sub int    := ((us % 1000) * 4096 / 1000)::int; -- 12 bits of the millisecond
BEGIN
  RETURN (lpad(to_hex(ms), 12, '0')                        -- unix_ts_ms, 48 bits
          || '7' || lpad(to_hex(sub), 3, '0')                -- version, rand_a = sub-ms
          || to_hex(8 + floor(random() * 4)::int)            -- variant 10xx
          || substr(md5(random()::text || us::text), 1, 15)  -- rand_b
         )::uuid;
END
$$;

ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT petcare_uuid_v7();
ALTER TABLE notifications ALTER COLUMN id SET DEFAULT petcare_uuid_v7();
