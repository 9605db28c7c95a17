"""The JSON form of CBOR values (spec 0009 §3.4) and canonical CBOR in Python, on top of cbor2.

cbor2 5.4's canonical mode sorts map keys length-first (RFC 7049); DreamDB sorts by encoded bytes
(RFC 8949 §4.2.1), so maps are laid out here and every leaf is encoded by cbor2 itself.
"""
import math

import cbor2


def from_json_form(v):
    """JSON form -> Python value (dict, list, int, float, str, bytes, CBORTag, bool, None)."""
    if isinstance(v, list):
        return [from_json_form(x) for x in v]
    if isinstance(v, dict):
        keys = set(v)
        if keys == {"$bytes"}:
            return bytes.fromhex(v["$bytes"])
        if keys == {"$bigint"}:
            return int(v["$bigint"])
        if keys == {"$float"}:
            return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}[v["$float"]])
        if keys == {"$tag", "$value"}:
            return cbor2.CBORTag(v["$tag"], from_json_form(v["$value"]))
        if keys == {"$map"}:
            return {from_json_form(k): from_json_form(x) for k, x in v["$map"]}
        return {k: from_json_form(x) for k, x in v.items()}
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**64:
        return int(v)  # DreamDB's number model: integral values are integers
    return v


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | info]) + n.to_bytes(width, "big")
    raise ValueError("argument too large")


def canon(v):
    """Deterministic CBOR: maps sorted by encoded key bytes; leaves encoded by cbor2's canonical mode."""
    if isinstance(v, dict):
        entries = sorted((cbor2.dumps(k, canonical=True), canon(x)) for k, x in v.items())
        return head(5, len(entries)) + b"".join(k + x for k, x in entries)
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(canon(x) for x in v)
    if isinstance(v, cbor2.CBORTag):
        return head(6, v.tag) + canon(v.value)
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**64:
        return cbor2.dumps(int(v))
    return cbor2.dumps(v, canonical=True)


def same(a, b):
    """Value equality that treats NaN as equal to NaN and bytes-like values alike."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, cbor2.CBORTag) and isinstance(b, cbor2.CBORTag):
        return a.tag == b.tag and same(a.value, b.value)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return type(a) is type(b) and a == b
