#!/usr/bin/env python3
"""Writes the small seed corpora of the fuzz targets to corpus/<target>/ (run
once; the files are committed). Deterministic."""
import base64
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-jwt-secret-0123456789-abcdefghijklmnopqrstu"  # fuzz_request.cpp
NOW = 1795000000
HID = "3f0c2a9e-5b7d-4e61-9a2f-0c1d2e3f4a5b"
UID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(exp=NOW + 900, iat=NOW):
    h = b64url(b'{"alg":"HS256","typ":"JWT"}')
    p = b64url(json.dumps({"sub": UID, "sid": "0b1c2d3e-4f5a-4b6c-8d7e-8f9a0b1c2d3e", "iat": iat,
                           "exp": exp}, separators=(",", ":")).encode())
    s = b64url(hmac.new(SECRET, f"{h}.{p}".encode(), hashlib.sha256).digest())
    return f"{h}.{p}.{s}"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


BODIES = {
    "POST /v1/auth/register": {"email": "Ann@Example.com", "password": "correct horse", "displayName": "Ann"},
    "POST /v1/auth/login": {"email": "ann@example.com", "password": "correct horse"},
    "POST /v1/auth/refresh": {"refreshToken": "sid.secret"},
    "POST /v1/households": {"name": "The Zeder House", "description": "Cats  and\ndogs"},
    "PATCH /v1/households/{householdId}": {"name": "Zeder", "description": None},
    "POST /v1/households/join": {"inviteCode": "zeder alpha bravo"},
    "POST /v1/households/{householdId}/invite-code": {"expiresInDays": 7},
    "POST /v1/households/{householdId}/leave": {"successorId": UID.upper()},
    "POST /v1/households/{householdId}/leadership": {"newLeaderId": UID},
    "POST /v1/households/{householdId}/members/{userId}/extend": {"temporaryExpiresAt": "2026-12-01T10:00:00.123+02:00"},
    "POST /v1/join-requests/{requestId}/approve": {"isTemporary": True, "temporaryExpiresAt": "2026-12-24T18:00:00Z"},
    "POST /v1/households/{householdId}/email-invites": {"email": "bob@example.com", "personalMessage": "Hi\r\nBob"},
    "POST /v1/email-invites/preview": {"token": "abc"},
    "POST /v1/email-invites/accept": {"token": "abc"},
}
ROUTES = list(BODIES)  # same order as fuzz_common.cpp body_routes


def request(method, path, body=None, headers=(), auth=True):
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"]
    if auth:
        lines.append(f"Authorization: Bearer {token()}")
    lines += list(headers)
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def main():
    # (a) request path
    n = 0
    for route, body in BODIES.items():
        method, tmpl = route.split(" ", 1)
        path = tmpl.replace("{householdId}", HID).replace("{userId}", UID).replace(
            "{requestId}", "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f")
        write("request", f"route-{n:02d}", request(method, path, body, auth="/auth/" not in path))
        n += 1
    write("request", "get-me", request("GET", "/v1/me"))
    write("request", "get-household-upper", request("GET", f"/v1/households/{HID.upper()}?x=1"))
    write("request", "list", request("GET", f"/v1/households/{HID}/members?limit=5&cursor="))
    write("request", "health", request("GET", "/health", auth=False))
    write("request", "method-405", request("PATCH", "/v1/households/join", {}))
    write("request", "no-auth", request("GET", "/v1/households/me", auth=False))
    write("request", "expired", request("GET", "/v1/me").replace(token().encode(), token(exp=NOW - 1).encode()))
    write("request", "idem", request("POST", "/v1/households", {"name": "Abc"}, ["Idempotency-Key: k 1"]))
    write("request", "ct-415", request("POST", "/v1/households", {"name": "Abc"}, ["Content-Type: text/plain"]))
    body = b'{"a":1,"a":2}'
    write("request", "dup-key", (f"POST /v1/households/join HTTP/1.1\r\nAuthorization: Bearer {token()}\r\n"
                                 f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 f"{len(body):x}\r\n").encode() + body + b"\r\n0\r\n\r\n")
    write("request", "preflight", "OPTIONS /v1/me HTTP/1.1\r\nOrigin: https://a.example\r\n"
                                  "Access-Control-Request-Method: GET\r\n\r\n")
    write("request", "big-header", request("GET", "/v1/me", headers=["X-Big: " + "a" * 17000]))
    # (b) invite codes
    for i, s in enumerate(["ZEDER-ALPHA-BRAVO", "zeder alpha bravo", "  Zeder--Alpha \t Bravo ",
                           "zederalphabravo", "ABCXRAYZULU", "A-B-C", "", "   ", "Zeder House",
                           "The Zeder House", "Al Bundy Home", "É-ALPHA-BRAVO", "x" * 70]):
        write("invite_code", f"seed-{i:02d}", s.encode())
    # (c) JSON bodies: first byte = content type index + 8 * route index
    for i, route in enumerate(ROUTES):
        write("json", f"ok-{i:02d}", bytes([i * 8]) + json.dumps(BODIES[route]).encode())
        wrong = {k: 12345 for k in BODIES[route]}
        write("json", f"types-{i:02d}", bytes([i * 8 + 1]) + json.dumps(wrong).encode())
    write("json", "dup", bytes([0]) + b'{"x":{"b":1,"b":2}}')
    write("json", "surrogate", bytes([0]) + b'{"name":"\\ud800"}')
    write("json", "bad-utf8", bytes([0]) + b'{"name":"\xc3("}')
    write("json", "nested", bytes([0]) + b'{"a":[[[[{"b":[1,2.5e3,-0,true,null]}]]]]}')
    write("json", "text-plain", bytes([3]) + b'{"name":"x"}')


if __name__ == "__main__":
    main()
