#!/usr/bin/env python3
"""Calls every /v1 endpoint at least once (success paths and the main error
paths) against a running service, so that auto_explain logs the plan of every
query the endpoints run. Used by tests/bench/plans/capture.sh; standard library
only. Prints one line per call: status, method, route.

  exercise.py BASE_URL JWT_SECRET EMAIL_FILE_DIR SEEDED_HID SEEDED_LEADER_ID
"""
import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone

base, secret, mail_dir, seeded_hid, seeded_uid = sys.argv[1:6]
u = urllib.parse.urlsplit(base)
seen = []


def call(method, path, body=None, token=None, expect=None, headers=None, raw=False):
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body)
        h["Content-Type"] = "application/json"
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    payload = r.read()
    c.close()
    print(f"{r.status} {method} {path}", flush=True)
    seen.append((r.status, method, path))
    if expect is not None and r.status != expect:
        sys.exit(f"unexpected {r.status} for {method} {path}: {payload[:300]!r}")
    if raw:
        return r.status, payload
    try:
        return r.status, json.loads(payload) if payload else None
    except ValueError:
        return r.status, None


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def seeded_token(uid):
    now = int(time.time())
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(json.dumps({"sub": uid, "sid": uid, "iat": now, "exp": now + 3600},
                             separators=(",", ":")).encode())
    sig = b64(hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


def iso(days):
    return (datetime.now(timezone.utc) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


tag = uuid.uuid4().hex[:8]
pw = "correct horse battery"


def register(name):
    s, b = call("POST", "/v1/auth/register",
                {"email": f"{name}-{tag}@plans.invalid", "password": pw, "displayName": name}, expect=201)
    return {"id": b["user"]["id"], "email": b["user"]["email"], "token": b["accessToken"],
            "refresh": b["refreshToken"]}


def invite_token(email):
    deadline = time.time() + 20
    while time.time() < deadline:
        for f in sorted(glob.glob(os.path.join(mail_dir, "*.json")), key=os.path.getmtime, reverse=True):
            m = json.load(open(f))
            if m.get("to") == email:
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(m["inviteUrl"]).query)
                return (q.get("invite") or q.get("token"))[0]
        time.sleep(0.5)
    sys.exit(f"no invite mail for {email} in {mail_dir}")


# Accounts and sessions.
L, M1, M2, M3, T = (register(n) for n in ("leader", "memberone", "membertwo", "memberthree", "sitter"))
_, b = call("POST", "/v1/auth/login", {"email": L["email"], "password": pw}, expect=200)
call("POST", "/v1/auth/login", {"email": L["email"], "password": "wrong password"}, expect=401)
call("POST", "/v1/auth/login", {"email": f"nobody-{tag}@plans.invalid", "password": pw}, expect=401)
_, b = call("POST", "/v1/auth/refresh", {"refreshToken": b["refreshToken"]}, expect=200)
call("GET", "/v1/me", token=L["token"], expect=200)

# Household lifecycle.
_, b = call("POST", "/v1/households", {"name": f"Plan House", "description": "plans"}, L["token"], 201)
hid, code1 = b["household"]["id"], b["household"]["inviteCode"]
call("POST", "/v1/households", {"name": "Second House"}, L["token"], 409)
call("GET", "/v1/households/me", token=L["token"], expect=200)
call("GET", f"/v1/households/{hid}", token=L["token"], expect=200)
call("PATCH", f"/v1/households/{hid}", {"name": "Plan Home", "description": "patched"}, L["token"], 200)
_, b = call("POST", f"/v1/households/{hid}/invite-code", {"expiresInDays": 90}, L["token"], 200)
code = b["inviteCode"]
call("GET", f"/v1/households/{hid}/qr-code", token=L["token"], expect=200, raw=True)
call("GET", f"/v1/households/{hid}/qr-code?format=data-url&size=300", token=L["token"], expect=200)

# Joining by code: regenerated, unknown, malformed, normalised, withdraw, duplicate, approve, reject.
call("POST", "/v1/households/join", {"inviteCode": code1}, M1["token"], 410)
call("POST", "/v1/households/join", {"inviteCode": "QQQQQ-ZULU-ZULU"}, M1["token"], 404)
call("POST", "/v1/households/join", {"inviteCode": "not a code!"}, M1["token"], 400)
_, b = call("POST", "/v1/households/join", {"inviteCode": code.lower().replace("-", " ")}, M1["token"], 201)
r1 = b["joinRequest"]["id"]
call("POST", "/v1/households/join", {"inviteCode": code}, M1["token"], 409)
call("GET", "/v1/me/join-requests", token=M1["token"], expect=200)
call("GET", "/v1/me/join-requests?status=pending&limit=1", token=M1["token"], expect=200)
call("POST", f"/v1/join-requests/{r1}/withdraw", token=M1["token"], expect=200)
_, b = call("POST", "/v1/households/join", {"inviteCode": code}, M1["token"], 201)
r1 = b["joinRequest"]["id"]
_, b = call("POST", "/v1/households/join", {"inviteCode": code}, M2["token"], 201)
r2 = b["joinRequest"]["id"]
_, b = call("POST", "/v1/households/join", {"inviteCode": code}, T["token"], 201)
r3 = b["joinRequest"]["id"]
_, b = call("GET", f"/v1/households/{hid}/join-requests?limit=1", token=L["token"], expect=200)
if b.get("nextCursor"):
    call("GET", f"/v1/households/{hid}/join-requests?limit=1&cursor={urllib.parse.quote(b['nextCursor'])}",
         token=L["token"], expect=200)
call("GET", f"/v1/households/{hid}/join-requests?status=all", token=L["token"], expect=200)
call("POST", f"/v1/join-requests/{r1}/approve", token=L["token"], expect=200)
call("POST", f"/v1/join-requests/{r1}/approve", token=L["token"], expect=409)
call("POST", f"/v1/join-requests/{r2}/reject", token=L["token"], expect=200)
call("POST", f"/v1/join-requests/{r3}/approve", {"isTemporary": True, "temporaryExpiresAt": iso(2)},
     L["token"], 200)
call("POST", f"/v1/households/{hid}/members/{T['id']}/extend", {"temporaryExpiresAt": iso(5)},
     L["token"], 200)
call("POST", f"/v1/households/{hid}/welcome-ack", token=M1["token"], expect=204)
_, b = call("GET", f"/v1/households/{hid}/members?limit=1", token=M1["token"], expect=200)
if b.get("nextCursor"):
    call("GET", f"/v1/households/{hid}/members?limit=1&cursor={urllib.parse.quote(b['nextCursor'])}",
         token=M1["token"], expect=200)
call("GET", f"/v1/households/{hid}/members?status=expired", token=L["token"], expect=200)
call("PATCH", f"/v1/households/{hid}", {"description": "member tries"}, M1["token"], 403)

# Email invites: send, list, preview, accept, revoke.
_, b = call("POST", f"/v1/households/{hid}/email-invites",
            {"email": M3["email"], "personalMessage": "Join us"}, L["token"])
if b and "emailInvite" in b:
    inv = b["emailInvite"]["id"]
    call("GET", f"/v1/households/{hid}/email-invites", token=L["token"], expect=200)
    call("GET", f"/v1/households/{hid}/email-invites?status=pending", token=L["token"], expect=200)
    tok = invite_token(M3["email"])
    call("POST", "/v1/email-invites/preview", {"token": tok}, M3["token"], 200)
    call("POST", "/v1/email-invites/preview", {"token": "x" * 43}, M3["token"], 404)
    _, b = call("POST", "/v1/email-invites/accept", {"token": tok}, M3["token"], 201)
    call("POST", f"/v1/join-requests/{b['joinRequest']['id']}/approve", token=L["token"], expect=200)
    _, b = call("POST", f"/v1/households/{hid}/email-invites",
                {"email": f"someone-{tag}@plans.invalid"}, L["token"], 201)
    call("DELETE", f"/v1/households/{hid}/email-invites/{b['emailInvite']['id']}", token=L["token"],
         expect=204)

# Notifications.
_, b = call("GET", "/v1/notifications?limit=1", token=M1["token"], expect=200)
if b.get("nextCursor"):
    call("GET", f"/v1/notifications?limit=1&cursor={urllib.parse.quote(b['nextCursor'])}",
         token=M1["token"], expect=200)
call("GET", "/v1/notifications?unreadOnly=true", token=L["token"], expect=200)
if b["notifications"]:
    call("POST", f"/v1/notifications/{b['notifications'][0]['id']}/read", token=M1["token"], expect=200)
call("POST", "/v1/notifications/read-all", token=L["token"], expect=200)

# Audit log, live events, webhooks.
_, b = call("GET", f"/v1/households/{hid}/audit-log?limit=2", token=L["token"], expect=200)
if b.get("nextCursor"):
    call("GET", f"/v1/households/{hid}/audit-log?limit=2&cursor={urllib.parse.quote(b['nextCursor'])}",
         token=L["token"], expect=200)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=3)
c.request("GET", "/v1/events", headers={"Authorization": "Bearer " + M1["token"], "Accept": "text/event-stream",
                                        "Last-Event-ID": "0"})
r = c.getresponse()
print(f"{r.status} GET /v1/events", flush=True)
try:
    r.fp.read1(4096) if r.status == 200 else r.read()
except Exception:
    pass
c.close()
call("GET", f"/v1/households/{hid}/webhooks", token=L["token"])
call("POST", f"/v1/households/{hid}/webhooks",
     {"url": "http://127.0.0.1:9/hook", "events": ["member.added"]}, L["token"])

# Removal, leadership, leaving, deactivation.
call("DELETE", f"/v1/households/{hid}/members/{T['id']}", token=L["token"], expect=204)
call("DELETE", f"/v1/households/{hid}/members/{T['id']}", token=L["token"], expect=404)
call("POST", f"/v1/households/{hid}/leadership", {"newLeaderId": M1["id"]}, L["token"], 200)
call("POST", f"/v1/households/{hid}/leave", token=L["token"], expect=200)
call("POST", f"/v1/households/{hid}/leave", {"successorId": M3["id"]}, M1["token"], 200)
_, b = call("POST", f"/v1/households/{hid}/leave", token=M3["token"], expect=200)
call("POST", "/v1/households/join", {"inviteCode": code}, M2["token"], 404)
call("GET", "/v1/households/me", token=M3["token"], expect=404)

# A seeded household at scale (history rows from seed_history.sql) and its leader.
st = seeded_token(seeded_uid)
call("GET", "/v1/me", token=st, expect=200)
call("GET", f"/v1/households/{seeded_hid}", token=st, expect=200)
call("GET", f"/v1/households/{seeded_hid}/members", token=st, expect=200)
call("GET", f"/v1/households/{seeded_hid}/join-requests?status=all", token=st, expect=200)
call("GET", f"/v1/households/{seeded_hid}/email-invites", token=st, expect=200)
call("GET", f"/v1/households/{seeded_hid}/audit-log", token=st, expect=200)
call("GET", "/v1/notifications", token=st, expect=200)
call("GET", "/v1/me/join-requests", token=st, expect=200)

# Idempotency keys.
call("PATCH", f"/v1/households/{seeded_hid}", {"description": "idem"}, st, 200,
     headers={"Idempotency-Key": f"plans-{tag}"})
call("PATCH", f"/v1/households/{seeded_hid}", {"description": "idem"}, st, 200,
     headers={"Idempotency-Key": f"plans-{tag}"})

call("POST", "/v1/auth/logout", token=L["token"], expect=204)
call("GET", "/v1/me", token=L["token"], expect=401)
print(f"{len(seen)} calls", flush=True)
