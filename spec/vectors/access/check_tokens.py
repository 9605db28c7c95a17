#!/usr/bin/python3
"""Independent check of spec/vectors/access/tokens.json (spec 0018 §2) with Python's `cryptography`
Ed25519, cbor2 and the b3sum program: no DreamDB code.

For every valid token: the issuer key id, every block's signature over
"dreamdb.token.v1" || previous signature || payload || next key, the proof (the last next key's secret,
or a seal over "dreamdb.token.v1.seal" || last signature), the blocks' caveats, their combination (rights
and patterns intersected, the latest nbf, the earliest exp, windows intersected), the revocation ids
(16 bytes of BLAKE3 of each signature) and each request's answer. Every invalid token must fail.
Prints "check_tokens: N passed, N failed"; exits 1 on any failure.
"""
import base64
import json
import os
import subprocess
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

here = os.path.dirname(os.path.abspath(__file__))
CONTEXT = b"dreamdb.token.v1"
SEAL = b"dreamdb.token.v1.seal"
SKEW = 30
RIGHTS = ["read", "write", "merge", "ingest", "admin"]
passed = failed = 0


def blake3(data):
    out = subprocess.run(["b3sum", "--no-names", "-"], input=data, capture_output=True, check=True)
    return bytes.fromhex(out.stdout.decode().strip())


def decode(token):
    assert token.startswith("ddb1_"), "prefix"
    body = token[5:]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") == body, "not canonical base64url"
    value = cbor2.loads(raw)
    assert cbor2.dumps(value, canonical=True) == raw, "not deterministic CBOR"
    version, issuer, blocks, proof = value
    assert version == 1
    return issuer, blocks, proof


def matches(pattern, name):
    if pattern == "*":
        return True
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def meet(x, y):
    if x == "*":
        return y
    if y == "*":
        return x
    xp, yp = x.endswith("*"), y.endswith("*")
    if not xp and not yp:
        return x if x == y else None
    if xp and not yp:
        return y if matches(x, y) else None
    if yp and not xp:
        return x if matches(y, x) else None
    return y if matches(x, y[:-1]) else (x if matches(y, x[:-1]) else None)


def intersect(a, b):
    return sorted({m for x in a for y in b for m in [meet(x, y)] if m is not None})


def combine(blocks):
    first = blocks[0]
    out = {"tenant": first["tenant"], "rights": list(first["rights"]), "spaces": list(first["spaces"]),
           "refs": list(first.get("refs", ["*"])), "exp": first["exp"]}
    nbf = first.get("nbf")
    window = first.get("window")
    for b in blocks[1:]:
        assert "tenant" not in b, "tenant in a later block"
        if "rights" in b:
            out["rights"] = [r for r in out["rights"] if r in b["rights"]]
        if "spaces" in b:
            out["spaces"] = intersect(out["spaces"], b["spaces"])
        if "refs" in b:
            out["refs"] = intersect(out["refs"], b["refs"])
        if "nbf" in b:
            nbf = b["nbf"] if nbf is None else max(nbf, b["nbf"])
        if "exp" in b:
            out["exp"] = min(out["exp"], b["exp"])
        if "window" in b:
            w = b["window"]
            if window is None and "window" not in out:
                window = w
            elif window is not None:
                window = ({"timeline": w["timeline"], "from": max(window["from"], w["from"]),
                           "to": min(window["to"], w["to"])} if window["timeline"] == w["timeline"] else None)
                if window is None:
                    out["window"] = None
    if nbf is not None:
        out["nbf"] = nbf
    if window is not None:
        out["window"] = window
    return out


def to_json(c):
    c = dict(c)
    if c.get("window") is not None:
        w = c["window"]
        c["window"] = {"timeline": w["timeline"], "from": str(w["from"]), "to": str(w["to"])}
    return c


def verify(token, issuers, now):
    issuer, blocks, proof = decode(token)
    if issuer not in issuers:
        raise ValueError("untrusted issuer")
    key = Ed25519PublicKey.from_public_bytes(issuers[issuer])
    previous = b""
    caveats = []
    for i, (payload, next_key, signature) in enumerate(blocks):
        key.verify(signature, CONTEXT + previous + payload + next_key)
        value = cbor2.loads(payload)
        assert cbor2.dumps(value, canonical=True) == payload
        caveats.append(value)
        key = Ed25519PublicKey.from_public_bytes(next_key)
        previous = signature
    last_key = blocks[-1][1]
    if len(proof) == 32:
        pub = Ed25519PrivateKey.from_private_bytes(proof).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if pub != last_key:
            raise ValueError("proof does not match")
        sealed = False
    else:
        key.verify(proof, SEAL + blocks[-1][2])
        sealed = True
    effective = combine(caveats)
    if now > effective["exp"] + SKEW or ("nbf" in effective and now + SKEW < effective["nbf"]):
        raise ValueError("outside validity")
    ids = [blake3(b[2])[:16].hex() for b in blocks]
    return caveats, effective, ids, sealed


def allowed(g, req):
    if req["right"] not in g["rights"]:
        return False
    if "space" not in req:
        return "admin" in g["rights"]
    if req.get("owner") != g["tenant"] or not any(matches(p, req["space"]) for p in g["spaces"]):
        return False
    ref = req.get("ref")
    if ref is not None and "*" not in g["refs"]:
        if len(ref) == 68 and ref.startswith("1e20"):
            return False
        if not any(matches(p, ref[5:] if ref.startswith("refs/") else ref) for p in g["refs"]):
            return False
    if "window" in g:
        w = g["window"]
        if w is None or req.get("timeline") != w["timeline"] or "from" not in req or "to" not in req:
            return False
        if int(req["from"]) < w["from"] or int(req["to"]) > w["to"]:
            return False
    return True


def report(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


with open(os.path.join(here, "tokens.json")) as f:
    file = json.load(f)
issuers = {}
for i in file["issuers"]:
    public = bytes.fromhex(i["public"])
    report(blake3(public)[:8].hex() == i["id"], f"issuer {i['id']}", "key id is not BLAKE3(public key)[:8]")
    issuers[i["id"]] = public
passed -= len(file["issuers"])  # the key ids are preconditions, not vectors

for v in file["valid"]:
    try:
        caveats, effective, ids, sealed = verify(v["token"], issuers, file["now"])
        problems = []
        if [to_json(c) for c in caveats] != v["blocks"]:
            problems.append("blocks")
        if to_json(effective) != v["effective"]:
            problems.append(f"grant {to_json(effective)}")
        if ids != v["revocation_ids"]:
            problems.append("revocation ids")
        if sealed != v["sealed"]:
            problems.append("sealed")
        for r in v["requests"]:
            if allowed(effective, r["request"]) != r["allowed"]:
                problems.append(f"request {r['request']}")
        report(not problems, v["name"], ", ".join(problems))
    except (InvalidSignature, ValueError, AssertionError, KeyError) as e:
        report(False, v["name"], f"{type(e).__name__} {e}")

for v in file["invalid"]:
    try:
        verify(v["token"], issuers, file["now"])
        report(False, v["name"], "verified")
    except Exception:
        report(True, v["name"])

print(f"check_tokens: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
