#!/usr/bin/env python3
"""SSE fan-out (SPEC §4.5): N open `GET /v1/events` streams on one instance.

Design. One household holds at most 15 members (SPEC §3.4) and one user at most 5
streams, so no single household change can reach 1,000 streams. Two changes that
together reach every stream are measured instead:
  1. `notification`: ONE PostgreSQL transaction writes one notification for each of
     the N stream users (what a change notifying N users would commit); latency =
     arrival on each stream - the moment the committing psql returned.
  2. `household`: N users seeded as ceil(N/15) households of 15 (leader + 14); every
     leader renames its household at once (PATCH, one connection each); latency =
     arrival on each member's stream - the 2xx of that household's PATCH.
RSS per stream = (VmRSS with N streams open and primed - VmRSS before) / N.

Usage: sse_fanout.py BINARY DATABASE_URL REDIS_URL [N=1000]
The database must be migrated and empty of `sse%@bench.invalid` users (use a
throwaway one: deploy/local/services.sh createdb DIR household_bench)."""
import http.client, json, selectors, socket, sys, threading, time

import benchlib as bl

TAG = bl.run_tag()  # fresh emails and codes per run: the database may be reused

bl.need(sys.argv, __doc__)
binary, db_url, redis_url = sys.argv[1:4]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
GROUP = 15

SEED = """
BEGIN;
CREATE TEMP TABLE s AS SELECT g, gen_random_uuid() AS uid FROM generate_series(1, :n) g;
INSERT INTO users (id, email, password_hash, display_name)
  SELECT uid, 'sse' || g || '-' || lower(:'tag') || '@bench.invalid', '$argon2id$v=19$m=8,t=1,p=1$c2VlZHNlZWQ$c2VlZA', 'Sse ' || g FROM s;
INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at)
  SELECT uid, uid, repeat('0', 64), now() + interval '1 day' FROM s;
CREATE TEMP TABLE hh AS SELECT (g - 1) / 15 AS k, gen_random_uuid() AS hid, uid AS leader FROM s WHERE (g - 1) % 15 = 0;
INSERT INTO households (id, name, invite_code, leader_id, created_by)
  SELECT hid, 'Sse House ' || k,
         'SSE' || chr(65 + (k / 676) % 26) || chr(65 + (k / 26) % 26) || chr(65 + k % 26) || '-' || :'tag' || '-BRAVO',
         leader, leader FROM hh;
INSERT INTO household_members (household_id, user_id, role)
  SELECT hh.hid, s.uid, CASE WHEN s.uid = hh.leader THEN 'leader' ELSE 'member' END
  FROM s JOIN hh ON hh.k = (s.g - 1) / 15;
COMMIT;
SELECT s.uid, hh.hid, (s.uid = hh.leader) FROM s JOIN hh ON hh.k = (s.g - 1) / 15 ORDER BY s.g;
"""

rows = [r.split(" ") for r in bl.psql(db_url, SEED, f"n={N}", f"tag={TAG}").split("\n") if r.count(" ") == 2]
users = [(u, h, lead == "t") for u, h, lead in rows]
assert len(users) == N, len(users)

svc = bl.Service(binary, db_url, redis_url, {"DATABASE_POOL_MAX": "10"})
try:
    time.sleep(1.0)
    rss0 = bl.rss_kib(svc.pid)

    sel = selectors.DefaultSelector()
    streams = []  # dicts: sock, buf, user, hid, marks
    t_open = time.monotonic()
    for uid, hid, _ in users:
        s = socket.create_connection(("127.0.0.1", svc.port))
        s.sendall((f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                   f"Authorization: Bearer {bl.token(uid)}\r\n\r\n").encode())
        s.setblocking(False)
        st = {"sock": s, "buf": bytearray(), "user": uid, "hid": hid, "seen": {}}
        streams.append(st)
        sel.register(s, selectors.EVENT_READ, st)

    def pump(until, stop=None):
        while time.monotonic() < until:
            for key, _ in sel.select(timeout=0.05):
                st = key.data
                try:
                    data = st["sock"].recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(st["sock"])
                    st["closed"] = True
                    continue
                now = time.monotonic()
                st["buf"] += data
                for kind in (b"event: notification", b"event: household"):
                    if kind in st["buf"] and kind not in st["seen"]:
                        st["seen"][kind] = now
            if stop and stop():
                return True
        return False

    ok = pump(time.monotonic() + 60, lambda: all(b": connected" in st["buf"] for st in streams))
    opened = sum(1 for st in streams if b" 200 " in st["buf"][:20])
    print(f"streams: {opened}/{N} answered 200 in {time.monotonic() - t_open:.2f} s (all connected: {ok})")
    pump(time.monotonic() + 3.0)  # the hub primes each stream with one PostgreSQL read
    rss1 = bl.rss_kib(svc.pid)
    print(f"RSS before {rss0} KiB, with {N} streams {rss1} KiB: {(rss1 - rss0) / N:.1f} KiB per stream")

    def report(name, lat):
        lat = [x * 1000 for x in lat]
        print(f"{name}: received {len(lat)}/{N}; latency p50 {bl.percentile(lat, 50):.0f} ms, "
              f"p90 {bl.percentile(lat, 90):.0f} ms, max {max(lat) if lat else float('nan'):.0f} ms")

    # 1. One transaction notifying all N users.
    bl.psql(db_url, "INSERT INTO notifications (user_id, type, title, body, data) SELECT id, "
                    "'member_removed', 'Removed from household', 'bench', '{}' FROM users "
                    "WHERE email LIKE 'sse%-" + TAG.lower() + "@bench.invalid';")
    t_commit = time.monotonic()
    kind = b"event: notification"
    pump(t_commit + 10, lambda: all(kind in st["seen"] for st in streams))
    report("notification (1 tx -> N streams)", [st["seen"][kind] - t_commit for st in streams if kind in st["seen"]])

    # 2. Every leader renames its household at once.
    leaders = [(u, h) for u, h, lead in users if lead]
    done_at, sent_at = {}, {}

    def rename(uid, hid):
        c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
        sent_at[hid] = time.monotonic()
        body = json.dumps({"name": "Renamed " + hid[:8].replace("-", "x")})
        c.request("PATCH", f"/v1/households/{hid}", body,
                  {"Authorization": "Bearer " + bl.token(uid), "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status == 200:
            done_at[hid] = time.monotonic()
        else:
            print("PATCH", r.status, file=sys.stderr)
        c.close()

    threads = [threading.Thread(target=rename, args=lh) for lh in leaders]
    for t in threads:
        t.start()
    kind = b"event: household"
    pump(time.monotonic() + 15, lambda: all(kind in st["seen"] for st in streams) and
         len(done_at) == len(leaders))
    for t in threads:
        t.join()
    lat = [st["seen"][kind] - done_at[st["hid"]] for st in streams if kind in st["seen"] and st["hid"] in done_at]
    report(f"household ({len(leaders)} concurrent renames -> {N} streams), from each PATCH's 2xx", lat)
    lat = [st["seen"][kind] - sent_at[st["hid"]] for st in streams if kind in st["seen"] and st["hid"] in sent_at]
    report(f"household, from each PATCH's send", lat)
    print(f"RSS after the events: {bl.rss_kib(svc.pid)} KiB")
    for st in streams:
        st["sock"].close()
finally:
    svc.stop()
