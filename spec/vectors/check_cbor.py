#!/usr/bin/python3
"""Independent check of spec/vectors/cbor.json and model.json with python3-cbor2.

Every valid vector must decode with cbor2 to the vector's value and re-encode canonically to the same
bytes; every invalid vector marked "rfc" must be refused by cbor2 or re-encode to different bytes.
Prints one line per failure and a closing "N passed, N failed" line; exits 1 on any failure.
"""
import json
import os
import sys

import cbor2

from cbor_form import canon, from_json_form, same

here = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def report(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


for filename in ("cbor.json", "model.json"):
    with open(os.path.join(here, filename)) as f:
        doc = json.load(f)
    for v in doc["vectors"]:
        name = f"{filename}:{v['name']}"
        if "hex" not in v:
            continue
        data = bytes.fromhex(v["hex"])
        if "error" not in v:
            decoded = cbor2.loads(data)
            if "value" in v and not same(decoded, from_json_form(v["value"])):
                report(False, name, f"cbor2 decodes {decoded!r}, vector says {v['value']!r}")
                continue
            again = canon(decoded)
            report(again == data, name, f"cbor2 re-encodes as {again.hex()}")
        elif v.get("violates") == "rfc":
            try:
                decoded = cbor2.loads(data)
            except Exception:
                report(True, name)
                continue
            try:
                again = canon(decoded)
            except Exception:
                report(True, name)
                continue
            report(again != data, name, "cbor2 finds these bytes canonical, but the vector says they break RFC 8949")

print(f"cbor2: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
