#!/usr/bin/env python3
"""Writes the wrk target files of tests/bench/scale/run.sh (needs psql on PATH).

  targets.py DATABASE_URL JWT_SECRET KIND OUT
KIND: join     "token code"  one per joiner user, each to a different seeded household
      lookup   "token code"  well-formed codes that exist nowhere (404: the lookup alone)
      approve  "token rid"   every pending request of a joiner, signed for its leader
      visit:N  "token hid"   the first N seeded households, signed for their leaders
Seeded users have session id = user id (seed.sql, seed_joiners.sql)."""
import base64, hashlib, hmac, json, random, subprocess, sys, time

url, secret, kind, out = sys.argv[1], sys.argv[2].encode(), sys.argv[3], sys.argv[4]
now = int(time.time())
header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()

def token(uid):
    p = base64.urlsafe_b64encode(json.dumps({"sub": uid, "sid": uid, "iat": now, "exp": now + 7200},
                                            separators=(",", ":")).encode()).rstrip(b"=").decode()
    s = base64.urlsafe_b64encode(hmac.new(secret, f"{header}.{p}".encode(), hashlib.sha256).digest())
    return f"{header}.{p}.{s.rstrip(b'=').decode()}"

def rows(sql):
    r = subprocess.run(["psql", url, "-X", "-At", "-F", " ", "-c", sql], check=True,
                       capture_output=True, text=True).stdout
    return [l.split(" ") for l in r.split("\n") if l]

if kind == "join":
    q = ("WITH j AS (SELECT id, row_number() OVER (ORDER BY email) AS rn FROM users"
         "  WHERE email LIKE 'joiner%@bench.invalid'),"
         " h AS (SELECT invite_code, row_number() OVER (ORDER BY id) AS rn FROM households"
         "  WHERE name LIKE 'Seed House %' AND status = 'active'),"
         " n AS (SELECT count(*) AS c FROM h)"
         " SELECT j.id, h.invite_code FROM j, n, h WHERE h.rn = (j.rn * 7919) % n.c + 1 ORDER BY random()")
    lines = [f"{token(u)} {c}" for u, c in rows(q)]
elif kind == "lookup":
    words = "ALPHA BRAVO CHARLIE DELTA ECHO FOXTROT GOLF HOTEL INDIA JULIET KILO LIMA MIKE".split()
    users = rows("SELECT id FROM users WHERE email LIKE 'looker%@bench.invalid'")
    lines = [f"{token(u[0])} {''.join(random.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ') for _ in range(5))}"
             f"-{random.choice(words)}-{random.choice(words)}" for u in users for _ in range(20)]
elif kind == "approve":
    q = ("SELECT h.leader_id, r.id FROM household_join_requests r JOIN households h ON h.id = r.household_id"
         " JOIN users u ON u.id = r.user_id WHERE r.status = 'pending' AND u.email LIKE 'joiner%@bench.invalid'"
         " ORDER BY random()")
    lines = [f"{token(l)} {r}" for l, r in rows(q)]
elif kind.startswith("visit:"):
    n = int(kind.split(":")[1])
    q = (f"SELECT leader_id, id FROM households WHERE name LIKE 'Seed House %' ORDER BY id LIMIT {n}")
    lines = [f"{token(l)} {h}" for l, h in rows(q)]
else:
    sys.exit("unknown KIND " + kind)
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{kind}: {len(lines)} targets -> {out}")
