#!/usr/bin/env python3
"""Email outbox throughput (SPEC §7.3) against a local SMTP sink (smtp_sink.py).

1. Seeds L leaders with a household each (SQL) and enqueues M invites through the API
   (POST /v1/households/{id}/email-invites, 20 per leader: the §3.9 limit) on an
   instance with EMAIL_TRANSPORT=log; that instance is then stopped.
2. Every outbox row is put back to `pending` (attempts 0, due now) in one UPDATE.
3. K dispatcher instances (EMAIL_TRANSPORT=smtp to the sink, SMTP_TLS=none,
   OUTBOX_POLL_INTERVAL_MS=100) drain the outbox; emails/s = M / (last sent_at - reset).

Usage: outbox_throughput.py BINARY DATABASE_URL REDIS_URL [M=2000] [K=1]
Use a throwaway, migrated database."""
import http.client, json, os, subprocess, sys, threading, time

import benchlib as bl

TAG = bl.run_tag()  # fresh emails and codes per run: the database may be reused

bl.need(sys.argv, __doc__)
binary, db_url, redis_url = sys.argv[1:4]
M = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
K = int(sys.argv[5]) if len(sys.argv) > 5 else 1
L = (M + 19) // 20

SEED = """
BEGIN;
CREATE TEMP TABLE s AS SELECT g, gen_random_uuid() AS uid, gen_random_uuid() AS hid FROM generate_series(1, :n) g;
INSERT INTO users (id, email, password_hash, display_name)
  SELECT uid, 'obx' || g || '-' || lower(:'tag') || '@bench.invalid', '$argon2id$v=19$m=8,t=1,p=1$c2VlZHNlZWQ$c2VlZA', 'Outbox ' || g FROM s;
INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at)
  SELECT uid, uid, repeat('0', 64), now() + interval '1 day' FROM s;
INSERT INTO households (id, name, invite_code, leader_id, created_by)
  SELECT hid, 'Outbox House ' || g,
         'OBX' || chr(65 + (g / 676) % 26) || chr(65 + (g / 26) % 26) || chr(65 + g % 26) || '-' || :'tag' || '-BRAVO',
         uid, uid FROM s;
INSERT INTO household_members (household_id, user_id, role) SELECT hid, uid, 'leader' FROM s;
COMMIT;
SELECT uid, hid FROM s ORDER BY g;
"""
leaders = [r.split(" ") for r in bl.psql(db_url, SEED, f"n={L}", f"tag={TAG}").split("\n") if " " in r]

enq = bl.Service(binary, db_url, redis_url, {"EMAIL_TRANSPORT": "log"})
failures = []
t0 = time.monotonic()


def enqueue(batch):
    c = http.client.HTTPConnection("127.0.0.1", enq.port, timeout=30)
    for uid, hid, i in batch:
        body = json.dumps({"email": f"invitee{i}@example.org"})
        c.request("POST", f"/v1/households/{hid}/email-invites", body,
                  {"Authorization": "Bearer " + bl.token(uid), "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            failures.append(r.status)


jobs = [(uid, hid, n * 20 + j) for n, (uid, hid) in enumerate(leaders) for j in range(20)][:M]
threads = [threading.Thread(target=enqueue, args=(jobs[k::8],)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"enqueued {len(jobs) - len(failures)}/{M} invites through the API in {time.monotonic() - t0:.1f} s "
      f"(failures: {sorted(set(failures))})")
enq.stop()

sink_port = bl.free_port()
count_file = f"/tmp/household-bench-sink-{sink_port}.count"
sink = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "smtp_sink.py"),
                         str(sink_port), count_file])
time.sleep(0.3)
env = {"EMAIL_TRANSPORT": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink_port),
       "SMTP_TLS": "none", "OUTBOX_POLL_INTERVAL_MS": "100", "FROM_EMAIL": "noreply@bench.invalid"}
dispatchers = []
try:
    # Every row pending but not yet due, so starting dispatchers send nothing; then
    # all due at once. (Resetting after the dispatchers had started let them send
    # some rows twice: once before the reset, once after — 206 extra in one run.)
    bl.psql(db_url, "UPDATE email_outbox SET status = 'pending', sent_at = NULL, attempts = 0, "
                    "next_attempt_at = now() + interval '1 day', lease_owner = NULL, "
                    "lease_expires_at = NULL, last_error = NULL;")
    for _ in range(K):
        dispatchers.append(bl.Service(binary, db_url, redis_url, env))
    reset = bl.psql(db_url, "BEGIN; UPDATE email_outbox SET next_attempt_at = now(); "
                            "SELECT extract(epoch from now()); COMMIT;").split()[-1]
    wall0 = time.monotonic()
    total = int(bl.psql(db_url, "SELECT count(*) FROM email_outbox;").strip())
    deadline = wall0 + 600
    while time.monotonic() < deadline:
        sent = int(bl.psql(db_url, "SELECT count(*) FROM email_outbox WHERE status = 'sent';").strip())
        if sent >= total:
            break
        time.sleep(0.5)
    res = bl.psql(db_url, f"SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'), "
                          f"extract(epoch from max(sent_at)) - {reset}, max(attempts) FROM email_outbox;").split()
    sent, failed, secs, max_attempts = int(res[0]), int(res[1]), float(res[2]), res[3]
    sunk = open(count_file).read().strip() if os.path.exists(count_file) else "?"
    print(f"{K} dispatcher(s): {sent}/{total} sent ({failed} failed, max attempts {max_attempts}) in {secs:.2f} s "
          f"= {sent / secs:.0f} emails/s; sink accepted {sunk}")
finally:
    for d in dispatchers:
        d.stop()
    sink.terminate()
