#!/usr/bin/env python3
"""Deterministic generator of malformed HTTP requests for the household service
(issue #6, "bad input"). Python 3 standard library only.

Each request is raw bytes plus a category. Placeholders the replayer fills in
at run time (they never appear inside a body, so Content-Length stays right):
  {{TOKEN}}  a valid access token   {{HID}}  the caller's household id
  {{UID}}    the caller's user id

usage: gen_malformed.py [--count N] [--seed S] [--out FILE]
  Without --out prints counts per category. FILE holds one JSON object per
  line: {"category": ..., "raw": <latin-1 string of the bytes>}.
"""
import argparse
import base64
import collections
import hashlib
import hmac
import json
import random

BODY_LIMIT = 16384  # HTTP_BODY_LIMIT_BYTES default

BODY_ROUTES = [
    ("POST", "/v1/auth/register", True),
    ("POST", "/v1/auth/login", True),
    ("POST", "/v1/auth/refresh", True),
    ("POST", "/v1/auth/logout", False),
    ("POST", "/v1/households", True),
    ("PATCH", "/v1/households/{{HID}}", True),
    ("POST", "/v1/households/join", True),
    ("POST", "/v1/households/{{HID}}/invite-code", False),
    ("POST", "/v1/households/{{HID}}/welcome-ack", False),
    ("POST", "/v1/households/{{HID}}/leave", False),
    ("POST", "/v1/households/{{HID}}/leadership", True),
    ("POST", "/v1/households/{{HID}}/members/{{UID}}/extend", True),
    ("POST", "/v1/join-requests/00000000-0000-4000-8000-000000000001/approve", False),
    ("POST", "/v1/join-requests/00000000-0000-4000-8000-000000000001/reject", False),
    ("POST", "/v1/join-requests/00000000-0000-4000-8000-000000000001/withdraw", False),
    ("POST", "/v1/households/{{HID}}/email-invites", True),
    ("POST", "/v1/email-invites/preview", True),
    ("POST", "/v1/email-invites/accept", True),
    ("POST", "/v1/notifications/read-all", False),
]
GET_ROUTES = [
    "/v1/me", "/v1/households/me", "/v1/households/{{HID}}", "/v1/households/{{HID}}/members",
    "/v1/me/join-requests", "/v1/households/{{HID}}/join-requests", "/v1/notifications",
    "/v1/households/{{HID}}/audit-log", "/v1/households/{{HID}}/qr-code",
    "/v1/households/{{HID}}/email-invites", "/health", "/health/live", "/openapi.json",
]
FIELDS = ["email", "password", "displayName", "refreshToken", "name", "description", "inviteCode",
          "expiresInDays", "successorId", "newLeaderId", "temporaryExpiresAt", "isTemporary",
          "personalMessage", "token"]
ODD_VALUES = [None, True, False, 0, -1, 1.5, 1e308, -0.0, 2**63, -(2**63) - 1, 18446744073709551616,
              "", " ", "\t", "a" * 300, "x" * 5000, [], [1, 2], {}, {"a": 1}, "\u0000", "\u0007",
              "\u009f", "\u202e", "\u2066evil", "\ud7ff", "💥" * 60, "Zeder House", "ZEDER-ALPHA-BRAVO",
              "zeder alpha bravo", "zederalphabravo", "ZEDER--ALPHA  BRAVO", "A-B-C", "-" * 70,
              "a@b", "a@b.c", "@@", "user@exa mple.com", "USER@EXAMPLE.COM ", "2026-02-30T10:00:00Z",
              "2026-12-01T10:00:00", "9999-12-31T23:59:59.999999999Z", "2026-12-01T24:00:00Z",
              "2026-12-01T10:00:60Z", "2026-12-01T10:00:00+25:00", "00000000-0000-0000-0000-000000000000",
              "00000000-0000-4000-8000-00000000000G", "{{not-a-placeholder}}", 7, 30, 90, 31]
SECRET = b"not-the-service-secret-0123456789-abcdefghijkl"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header, payload, secret=SECRET):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = b64url(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
    return f"{h}.{p}.{sig}"


BAD_TOKENS = [
    "", " ", "Bearer", "Bearer ", "Bearer  ", "Basic dXNlcjpwYXNz", "bearer {{TOKEN}}x",
    "Bearer {{TOKEN}}.", "Bearer .", "Bearer ..", "Bearer a.b.c", "Bearer " + "A" * 8000,
    "Bearer {{TOKEN}} extra", "Token {{TOKEN}}", "Bearer\t{{TOKEN}}",
    "Bearer " + jwt({"alg": "none", "typ": "JWT"}, {"sub": "x"}).rsplit(".", 1)[0] + ".",
    "Bearer " + jwt({"alg": "HS256", "typ": "JWT"}, {"sub": "00000000-0000-4000-8000-000000000001",
                                                     "sid": "00000000-0000-4000-8000-000000000002",
                                                     "iat": 1, "exp": 2}),
    "Bearer " + jwt({"alg": "RS256"}, {"sub": "a", "sid": "b", "iat": 1, "exp": 9999999999}),
    "Bearer " + jwt({"alg": "HS256"}, {"sub": 1, "sid": [], "iat": "x", "exp": None}),
    "Bearer " + jwt({"alg": "HS256"}, []),
    "Bearer " + b64url(b"\xff\xfe") + "." + b64url(b"{") + "." + b64url(b"\x00"),
    "Bearer \u00e9\u00e9.\u00e9.\u00e9",
]
BAD_CONTENT_TYPES = [None, "", "text/plain", "application/xml", "application/json; charset=latin1",
                     "application/json; charset=utf-16", "application/json; boundary=x",
                     "application/jsonx", "application/json;;;", "application/json; charset=",
                     "application/json; charset=\"utf-8", "*/*", "application/*", "multipart/form-data",
                     "application/json, text/plain", "application/json\x00", "APPLICATION/JSON; CHARSET=UTF-8",
                     "application/json ; charset = utf-8", "application/x-www-form-urlencoded"]
BAD_IDEMPOTENCY_KEYS = ["", " ", "a b", "k" * 256, "ключ", "\x7f", "tab\there", "ok-key-{n}", "k" * 255]
BAD_REQUEST_IDS = ["", "a" * 129, "bad id", "<script>", "ünï", "a" * 128, "../../etc", "%00"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.out = []

    def add(self, category, raw):
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        self.out.append((category, raw))

    def request(self, method, path, headers=(), body=b"", content_length=True, version="HTTP/1.1",
                auth=True, host=True):
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        lines = [f"{method} {path} {version}"]
        if host:
            lines.append("Host: 127.0.0.1")
        if auth is True:
            lines.append("Authorization: Bearer {{TOKEN}}")
        elif auth:
            lines.append(f"Authorization: {auth}")
        lines.extend(headers)
        if content_length and (body or method in ("POST", "PATCH")):
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode("utf-8", "surrogatepass") + body

    def json_body(self, obj):
        return json.dumps(obj, ensure_ascii=self.r.random() < 0.5).encode("utf-8", "surrogatepass")

    def bad_json(self):
        r = self.r
        choices = [
            b"{", b"}", b"[", b"[]", b"null", b"true", b"1", b"\"str\"", b"{\"a\":}", b"{\"a\" 1}",
            b"{\"a\":1,}", b"{,}", b"{\"a\":1}{", b"{\"a\":1} x", b"{'a':1}", b"{a:1}", b"{\"a\":01}",
            b"{\"a\":1.}", b"{\"a\":.5}", b"{\"a\":NaN}", b"{\"a\":Infinity}", b"{\"a\":-}",
            b"{\"a\":\"\\ud800\"}", b"{\"a\":\"\\udc00\\ud800\"}", b"{\"a\":\"\\u12\"}", b"{\"a\":\"\\x41\"}",
            b"{\"a\":\"\x01\"}", b"{\"a\":\"\xff\"}", b"{\"a\":\"\xc0\xaf\"}", b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"a\":\"\xf4\x90\x80\x80\"}", b"\xef\xbb\xbf{}", b"{\"a\":1,\"a\":2}",
            b"{\"x\":{\"b\":1,\"b\":1}}", b"{\"x\":[{\"c\":1,\"c\":2}]}", b"{\"a\":1e999}",
            b"{\"a\":" + b"[" * 7000 + b"]" * 7000 + b"}", b"{\"a\":" + b"[" * 5000 + b"}",
            b"{\"a\":" + b"{\"a\":" * 3000 + b"1" + b"}" * 3000 + b"}", b"\x00{}", b"{}\x00",
            b"{\"a\":tru}", b"{\"a\":nul}", b"{\"\":1,\"\":2}", b"/*c*/{}", b"{} // c",
            b" \t\r\n ", b"{\"a\":\"" + b"\\\"" * 3000 + b"\"}",
        ]
        b = r.choice(choices)
        if r.random() < 0.2:  # random mutation
            b = bytearray(b)
            for _ in range(r.randint(1, 4)):
                if b:
                    b[r.randrange(len(b))] = r.randrange(256)
            b = bytes(b)
        return b

    def body_for_route(self):
        r = self.r
        obj = {}
        for f in r.sample(FIELDS, r.randint(0, 5)):
            obj[f] = r.choice(ODD_VALUES)
        return obj

    # ---- categories -------------------------------------------------------
    def cat_bad_json(self):
        m, p, _ = self.r.choice(BODY_ROUTES)
        self.add("bad_json", self.request(m, p, ["Content-Type: application/json"], self.bad_json()))

    def cat_wrong_types(self):
        m, p, _ = self.r.choice(BODY_ROUTES)
        ct = self.r.choice(["application/json", "application/json; charset=utf-8",
                            "Application/Json;Charset=\"UTF-8\""])
        self.add("wrong_types", self.request(m, p, [f"Content-Type: {ct}"], self.json_body(self.body_for_route())))

    def cat_bad_utf8(self):
        m, p, _ = self.r.choice(BODY_ROUTES)
        bad = self.r.choice([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                             b"\xc1\xbf", b"\xf5\x80\x80\x80", b"\x80", b"\xfe\xff"])
        field = self.r.choice(FIELDS).encode()
        body = b"{\"" + field + b"\":\"abc" + bad + b"def\"}"
        if self.r.random() < 0.3:
            body = b"{\"" + field + bad + b"\":1}"
        self.add("bad_utf8_body", self.request(m, p, ["Content-Type: application/json"], body))
        # bad UTF-8 in the path and in headers
        path = self.r.choice(GET_ROUTES).encode() + self.r.choice([b"/\xff", b"\xc3(", b"/%ff", b"/%c3%28"])
        raw = self.request("GET", "PATH", ["X-Request-Id: \xff\xfe".encode("latin-1").decode("latin-1")])
        raw = raw.replace(b"PATH", path, 1)
        self.add("bad_utf8_path", raw)

    def cat_content_type(self):
        m, p, _ = self.r.choice(BODY_ROUTES)
        ct = self.r.choice(BAD_CONTENT_TYPES)
        headers = [] if ct is None else [f"Content-Type: {ct}"]
        if self.r.random() < 0.15:
            headers += ["Content-Type: text/plain"]
        body = self.json_body(self.body_for_route()) if self.r.random() < 0.8 else b""
        self.add("content_type", self.request(m, p, headers, body))

    def cat_content_length(self):
        r = self.r
        m, p, _ = r.choice(BODY_ROUTES)
        body = self.json_body(self.body_for_route())
        variant = r.randrange(8)
        head = [f"{m} {p} HTTP/1.1", "Host: x", "Authorization: Bearer {{TOKEN}}",
                "Content-Type: application/json", "Connection: close"]
        if variant == 0:
            head.append(f"Content-Length: {max(0, len(body) - r.randint(1, 5))}")  # shorter: trailing garbage
        elif variant == 1:
            head.append(f"Content-Length: {len(body) + r.randint(1, 50)}")  # longer: server waits, then EOF
        elif variant == 2:
            head.append("Content-Length: -1")
        elif variant == 3:
            head.append("Content-Length: abc")
        elif variant == 4:
            head += [f"Content-Length: {len(body)}", f"Content-Length: {len(body) + 1}"]
        elif variant == 5:
            head.append("Content-Length: 99999999999999999999999")
        elif variant == 6:
            head.append(f"Content-Length: +{len(body)}")
        else:
            head.append(f"Content-Length:  {len(body)} ")
        self.add("content_length", ("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def cat_chunked(self):
        r = self.r
        m, p, _ = r.choice(BODY_ROUTES)
        body = self.json_body(self.body_for_route())
        head = [f"{m} {p} HTTP/1.1", "Host: x", "Authorization: Bearer {{TOKEN}}",
                "Content-Type: application/json", "Connection: close"]
        te = r.choice(["Transfer-Encoding: chunked", "Transfer-Encoding: Chunked",
                       "Transfer-Encoding: gzip, chunked", "Transfer-Encoding: chunked, identity",
                       "Transfer-Encoding: xchunked", "Transfer-Encoding:\tchunked"])
        head.append(te)
        variant = r.randrange(9)
        if variant == 0:
            chunks = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"  # well-formed
        elif variant == 1:
            head.append(f"Content-Length: {len(body)}")  # both: smuggling shape
            chunks = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        elif variant == 2:
            chunks = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
        elif variant == 3:
            chunks = b"ffffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n"
        elif variant == 4:
            chunks = f"{len(body):x};ext=1;x=\"y\"\r\n".encode() + body + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
        elif variant == 5:
            chunks = f"{len(body):x}\r\n".encode() + body + b"\r\n"  # no last chunk: EOF
        elif variant == 6:
            pieces = b"".join(b"1\r\n" + body[i:i + 1] + b"\r\n" for i in range(len(body)))
            chunks = pieces + b"0\r\n\r\n"
        elif variant == 7:  # chunked oversize body
            big = b"{\"name\":\"" + b"a" * (BODY_LIMIT + 10) + b"\"}"
            chunks = f"{len(big):x}\r\n".encode() + big + b"\r\n0\r\n\r\n"
        else:
            chunks = f"{len(body) + 3:x}\r\n".encode() + body + b"\r\n0\r\n\r\n"  # wrong size
        self.add("chunked", ("\r\n".join(head) + "\r\n\r\n").encode() + chunks)

    def cat_headers(self):
        r = self.r
        path = r.choice(GET_ROUTES)
        variant = r.randrange(12)
        if variant == 0:
            headers = [f"X-Big: {'a' * r.choice([8000, 16500, 20000, 70000])}"]
        elif variant == 1:
            headers = [f"X-H{i}: {'v' * 20}" for i in range(r.choice([100, 700, 1100]))]
        elif variant == 2:
            headers = ["NoColonHere"]
        elif variant == 3:
            headers = ["X-Folded: a", " continued"]
        elif variant == 4:
            headers = ["X-Nul: a\x00b"]
        elif variant == 5:
            headers = [f"{'N' * r.choice([300, 20000])}: v"]
        elif variant == 6:
            headers = ["X-Request-Id: " + r.choice(BAD_REQUEST_IDS)]
        elif variant == 7:
            headers = [": empty-name"]
        elif variant == 8:
            headers = ["X-Forwarded-For: " + ",".join(["1.2.3.4"] * r.randint(1, 500))]
        elif variant == 9:
            headers = ["Origin: https://evil.example", "Access-Control-Request-Method: POST"]
        elif variant == 10:
            headers = ["X-Ünïcode: välue", "X-Ctl: \x01\x7f"]
        else:
            headers = ["Host: second.example", "Authorization: Bearer {{TOKEN}}"]
        method = "OPTIONS" if variant == 9 else "GET"
        self.add("headers", self.request(method, path, headers))

    def cat_methods(self):
        r = self.r
        method = r.choice(["FOO", "get", "Get", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE",
                           "CONNECT", "PROPFIND", "MKCOL", "LOCK", "SEARCH", "PURGE", "POST", "G ET",
                           "GETT", "", "\x00GET", "M" * 100])
        path = r.choice(GET_ROUTES + [p for _, p, _ in BODY_ROUTES])
        self.add("methods", self.request(method, path))

    def cat_paths(self):
        r = self.r
        path = r.choice([
            "/", "", "*", "//v1/me", "/v1//me", "/v1/me/", "/v1", "/v1/", "/V1/me", "/v1/./me",
            "/v1/../v1/me", "/v1/%2e%2e/me", "/v1/me%00", "/v1/households/%2F", "/v1/households/../../etc/passwd",
            "/v1/households/NOT-A-UUID", "/v1/households/" + "a" * 5000, "/v1/households/{{HID}}?x=" + "y" * 3000,
            "/v1/households/{{HID}}#frag", "/v1/households/{{HID}}?a=1&a=2", "http://127.0.0.1/v1/me",
            "https://evil.example/v1/me", "/v1/households/00000000-0000-4000-8000-00000000000A",
            "/v1/households/00000000-0000-4000-8000-00000000000a/members/xyz/extend",
            "/v1/join-requests/%ZZ/approve", "/v1/notifications?limit=0", "/v1/notifications?limit=101",
            "/v1/notifications?limit=abc", "/v1/notifications?cursor=%%%", "/v1/notifications?cursor=" + "A" * 2000,
            "/v1/notifications?limit=-1&cursor=", "/v1/households/{{HID}}/audit-log?limit=1e3",
            "/v1/households/{{HID}}/members?cursor=eyJ4IjoxfQ", "/health/../v1/me", "/metrics/", "/openapi.json/x",
            "/v1/events?token=abc", "/v1/" + "a/" * 2000, "/v1/households/me/join",
            "/v1/households/{{HID}}/qr-code?size=-5&format=svg", "/v1/households/{{HID}}/qr-code?size=99999",
            "/\t/v1", "/v1/me\r", "/%76%31/me",
        ])
        method = r.choice(["GET", "POST", "DELETE", "PATCH"])
        body = b"{}" if method in ("POST", "PATCH") else b""
        self.add("paths", self.request(method, path, ["Content-Type: application/json"] if body else [], body))

    def cat_tokens(self):
        r = self.r
        m, p, _ = r.choice(BODY_ROUTES[3:])
        if r.random() < 0.5:
            m, p = "GET", r.choice(GET_ROUTES[:10])
        tok = r.choice(BAD_TOKENS)
        headers = ["Content-Type: application/json"]
        auth = tok if tok else None
        raw = self.request(m, p, headers, b"{}" if m != "GET" else b"", auth=auth if auth else False)
        self.add("tokens", raw)

    def cat_idempotency(self):
        r = self.r
        m, p, _ = r.choice(BODY_ROUTES)
        key = r.choice(BAD_IDEMPOTENCY_KEYS).replace("{n}", str(r.randrange(10**9)))
        headers = ["Content-Type: application/json", f"Idempotency-Key: {key}"]
        if r.random() < 0.2:
            headers.append("Idempotency-Key: second")
        self.add("idempotency_key", self.request(m, p, headers, self.json_body(self.body_for_route())))

    def cat_oversize(self):
        r = self.r
        m, p, _ = r.choice(BODY_ROUTES)
        size = r.choice([BODY_LIMIT + 1, BODY_LIMIT + 1000, 70000, 300000, 1100000])
        body = b"{\"description\":\"" + b"d" * size + b"\"}"
        self.add("oversize_body", self.request(m, p, ["Content-Type: application/json"], body))

    def cat_versions(self):
        r = self.r
        version = r.choice(["HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.2", "HTTP/9.9", "HTTPS/1.1",
                            "http/1.1", "HTTP/1.1 extra", ""])
        self.add("versions", self.request("GET", r.choice(GET_ROUTES), version=version, host=r.random() < 0.5))

    def cat_pipelined(self):
        r = self.r
        first = self.request("GET", r.choice(GET_ROUTES)).replace(b"Connection: close\r\n", b"")
        m, p, _ = r.choice(BODY_ROUTES)
        second = self.request(m, p, ["Content-Type: application/json"], self.bad_json())
        self.add("pipelined", first + second)

    def cat_garbage(self):
        r = self.r
        n = r.choice([1, 10, 100, 1000])
        raw = bytes(r.randrange(256) for _ in range(n))
        if r.random() < 0.5:
            raw = b"GET /v1/me HTTP/1.1\r\n" + raw + b"\r\n\r\n"
        self.add("garbage", raw)


WEIGHTS = {
    "cat_bad_json": 16, "cat_wrong_types": 22, "cat_bad_utf8": 6, "cat_content_type": 8,
    "cat_content_length": 6, "cat_chunked": 7, "cat_headers": 6, "cat_methods": 5, "cat_paths": 7,
    "cat_tokens": 6, "cat_idempotency": 5, "cat_oversize": 2, "cat_versions": 2, "cat_pipelined": 1,
    "cat_garbage": 1,
}


def generate(count=12000, seed=20261127):
    g = Gen(seed)
    names = list(WEIGHTS)
    weights = [WEIGHTS[n] for n in names]
    while len(g.out) < count:
        getattr(g, g.r.choices(names, weights)[0])()
    return g.out[:count]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--out")
    a = ap.parse_args()
    reqs = generate(a.count, a.seed)
    if a.out:
        with open(a.out, "w", encoding="ascii") as f:
            for cat, raw in reqs:
                f.write(json.dumps({"category": cat, "raw": raw.decode("latin-1")}) + "\n")
    counts = collections.Counter(c for c, _ in reqs)
    total = sum(len(r) for _, r in reqs)
    digest = hashlib.sha256(b"".join(r for _, r in reqs)).hexdigest()[:16]
    print(f"{len(reqs)} requests, {total} bytes, sha256/16 {digest}")
    for c, n in sorted(counts.items()):
        print(f"  {c:18} {n}")


if __name__ == "__main__":
    main()
