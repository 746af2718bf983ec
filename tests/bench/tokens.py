#!/usr/bin/env python3
"""Prints "household_id access_token" for every seeded leader (tests/bench/seed.sql).

Usage: tokens.py DATABASE_URL JWT_SECRET > targets.txt  (needs psql on PATH)"""
import base64, hashlib, hmac, json, subprocess, sys, time

def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

url, secret = sys.argv[1], sys.argv[2].encode()
rows = subprocess.run(
    ["psql", url, "-At", "-F", " ", "-c",
     "SELECT household_id, user_id FROM household_members WHERE status = 'active' AND role = 'leader' "
     "AND user_id IN (SELECT id FROM users WHERE email LIKE 'seed%@bench.invalid')"],
    check=True, capture_output=True, text=True).stdout.split("\n")
now = int(time.time())
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
for row in rows:
    if not row:
        continue
    hid, uid = row.split(" ")
    payload = b64(json.dumps({"sub": uid, "sid": uid, "iat": now, "exp": now + 7200},
                             separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    sig = b64(hmac.new(secret, signing, hashlib.sha256).digest())
    print(hid, f"{header}.{payload}.{sig}")
