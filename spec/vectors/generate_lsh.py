#!/usr/bin/python3
"""Writes spec/vectors/lsh.json (spec 0004, dreamdb.lsh-cosine) independently of the engine: the ChaCha20
keystream from the `cryptography` package (RFC 8439) and the f32 left fold by struct packing (a sum
of two f32 done in double and rounded to f32 is the correctly rounded f32 sum: 53 >= 2*24 + 2 bits).
Run from anywhere: /usr/bin/python3 spec/vectors/generate_lsh.py
"""
import json
import os

import random
import struct
import subprocess

import cbor2
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from cbor_form import canon

here = os.path.dirname(os.path.abspath(__file__))
# DREAMDB_VECTORS_OUT: write elsewhere (the tests compare a fresh run with the committed files).
out = os.environ.get("DREAMDB_VECTORS_OUT", here)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def keystream(seed, n):
    # cryptography's ChaCha20 nonce is 16 bytes: a 4-byte little-endian counter, then the 12-byte nonce.
    enc = Cipher(algorithms.ChaCha20(seed, bytes(16)), mode=None).encryptor()
    return enc.update(bytes(n))


def signs(p):
    count = p["tables"] * p["bits"] * p["dimension"]
    return keystream(bytes.fromhex(p["seed"]), (count + 7) // 8)


def table_keys(p, vector):
    s = signs(p)
    v = [f32(float(x)) for x in vector]
    out = []
    for t in range(p["tables"]):
        key, margins = 0, []
        for j in range(p["bits"]):
            base = (t * p["bits"] + j) * p["dimension"]
            dot = 0.0
            for i in range(p["dimension"]):
                at = base + i
                neg = (s[at >> 3] >> (at & 7)) & 1
                dot = f32(dot + (-v[i] if neg else v[i]))
            if dot >= 0:
                key |= 1 << j
            margins.append(abs(dot))
        out.append((key, margins))
    return out


def probes(key, margins, n):
    order = sorted(range(len(margins)), key=lambda j: (margins[j], j))
    return [key] + [key ^ (1 << j) for j in order[: n - 1]]


def params(seed_byte, dimension, tables, bits, probes_=2):
    return {"seed": bytes([seed_byte] * 32).hex(), "dimension": dimension, "tables": tables, "bits": bits,
            "probes": probes_}


vectors = []
for p in [params(0, 8, 2, 4), params(7, 5, 3, 3), params(0x42, 128, 8, 16)]:
    s = signs(p)
    vectors.append({"name": f"hyperplane signs of seed {p['seed'][:4]}…, {p['tables']}x{p['bits']} planes of {p['dimension']}",
                    "op": "lsh-signs", "input": p, "output": {"signs": s.hex()[:256], "bytes": len(s)}})

rng = random.Random(20261125)
cases = [
    ("unit axis", params(0, 8, 2, 4), [1, 0, 0, 0, 0, 0, 0, 0]),
    ("mixed magnitudes: an f64 fold would round differently", params(0, 8, 2, 4),
     [1e8, 1, -1, 3.5, -1e8, 0.25, 7, -2]),
    ("ties at zero count as 1", params(7, 5, 3, 3), [1, 1, 1, 1, 1]),
    ("f32 rounding of the inputs themselves", params(7, 5, 3, 3), [0.1, 0.2, 0.3, -0.7, 1 / 3]),
]
for k in range(4):
    cases.append((f"128-d Gaussian vector {k}, 8 tables x 16 bits", params(0x42, 128, 8, 16, 4),
                  [f32(rng.gauss(0, 1)) for _ in range(128)]))
for name, p, v in cases:
    keys = table_keys(p, v)
    vectors.append({"name": f"table keys: {name}", "op": "lsh-keys", "input": {**p, "vector": v},
                    "output": {"keys": [k for k, _ in keys],
                               "margins": [[m for m in ms] for _, ms in keys],
                               "probes": [probes(k, ms, p["probes"]) for k, ms in keys]}})

bad = [
    ("wrong dimension", {**params(0, 8, 2, 4), "vector": [1, 2, 3]}, "E_FIELD", "8"),
    ("NaN component", {**params(0, 4, 1, 4), "vector": [1, "NaN", 0, 0]}, "E_FIELD", "component 1"),
    ("infinite component", {**params(0, 4, 1, 4), "vector": [1, 0, "Infinity", 0]}, "E_FIELD", "component 2"),
    ("zero vector", {**params(0, 4, 1, 4), "vector": [0, 0, 0, 0]}, "E_FIELD", "zero vector"),
    ("33 bits", {**params(0, 4, 1, 33), "vector": [1, 0, 0, 0]}, "E_FIELD", "bits"),
    ("no tables", {**params(0, 4, 0, 4), "vector": [1, 0, 0, 0]}, "E_FIELD", "tables"),
    ("more probes than bits + 1", {**params(0, 4, 1, 4, 6), "vector": [1, 0, 0, 0]}, "E_FIELD", "probes"),
    ("dimension 0", {**params(0, 0, 1, 4), "vector": []}, "E_FIELD", "dimension"),
    ("short seed", {**params(0, 4, 1, 4), "seed": "00" * 31, "vector": [1, 0, 0, 0]}, "E_FIELD", "seed"),
]
for name, inp, code, path in bad:
    vectors.append({"name": f"refused: {name}", "op": "lsh-keys", "input": inp, "error": code, "path": path})

def record(**over):
    r = {"v": 0, "scheme": "dreamdb.lsh-cosine", "dimension": 128, "tables": 8, "bits": 16, "probes": 4,
         "seed": bytes(range(32))}
    r.update(over)
    return {k: v for k, v in r.items() if v is not None}


for name, r in [("8 tables x 16 bits of 128-d", record()), ("one table, one bit", record(dimension=1, tables=1, bits=1, probes=1))]:
    vectors.append({"name": f"SpatialIndex record: {name}", "op": "decode-spatialIndex", "hex": canon(r).hex()})
for name, r, path in [
    ("unknown field", record(metric="l2"), "spatialIndex.metric"),
    ("another scheme", record(scheme="dreamdb.lsh-l2"), "spatialIndex.scheme"),
    ("version 1", record(v=1), "spatialIndex.v"),
    ("a 31-byte seed", record(seed=bytes(31)), "seed"),
    ("seed as text", record(seed="00" * 32), "spatialIndex.seed"),
    ("zero bits", record(bits=0), "bits"),
    ("probes past bits + 1", record(bits=4, probes=6), "probes"),
    ("dimension missing", record(dimension=None), "spatialIndex.dimension"),
]:
    vectors.append({"name": f"SpatialIndex refused: {name}", "op": "decode-spatialIndex", "hex": canon(r).hex(),
                    "error": "E_FIELD", "path": path})



def blake3_multihash(data):
    # b3sum (the reference BLAKE3 tool) as the independent hash; multihash = 0x1e 0x20 + digest.
    out = subprocess.run(["b3sum", "--no-names", "--raw"], input=data, capture_output=True, check=True).stdout
    return bytes([0x1E, 0x20]) + out


def spatial_segment(p, timeline, track, items):
    """A spatial segment object (spec 0004 §6.1): envelope kind 5, canonical header, ticks, keys, vectors."""
    rec = record(dimension=p["dimension"], tables=p["tables"], bits=p["bits"], probes=p["probes"],
                 seed=bytes.fromhex(p["seed"]))
    lineage = blake3_multihash(canon(rec))
    rows = []
    for tick, vector in items:
        keys = [k for k, _ in table_keys(p, vector)]
        rows.append((keys[0], tick, keys, [f32(float(x)) for x in vector]))
    rows.sort(key=lambda r: (r[0], r[1]))
    ticks = [tick for tick, _ in items]
    header = {"v": 0, "timeline": timeline, "track": track,
              "spatial_index": cbor2.CBORTag(65521, lineage), "count": len(rows),
              "dimension": p["dimension"], "tables": p["tables"],
              "first": cbor2.CBORTag(65524, min(ticks)), "last": cbor2.CBORTag(65524, max(ticks))}
    head_bytes = canon(header)
    payload = b"".join(struct.pack("<Q", r[1]) for r in rows)
    payload += b"".join(struct.pack("<I", r[2][t]) for t in range(p["tables"]) for r in rows)
    payload += b"".join(struct.pack("<f", x) for r in rows for x in r[3])
    obj = b"DRDB" + bytes([0, 5, 0, 0]) + struct.pack(">I", len(head_bytes)) + head_bytes + payload
    return lineage, obj


seg_params = params(9, 4, 2, 3, 2)
seg_items = [(1_000_000_000 * (i + 1), [f32(rng.gauss(0, 1)) for _ in range(4)]) for i in range(6)]
seg_items.append((2**40 + 5, [0.5, -0.25, 0.125, 1.0]))
lineage, seg = spatial_segment(seg_params, "s1", "emb", seg_items)
vectors.append({"name": "spatial segment: 7 vectors of 4-d, 2 tables x 3 bits, spatial-first order",
                "op": "spatial-segment",
                "input": {**seg_params, "timeline": "s1", "track": "emb",
                          "items": [{"tick": str(t), "vector": v} for t, v in seg_items]},
                "output": {"lineage": lineage.hex(), "hex": seg.hex(), "multihash": blake3_multihash(seg).hex()}})

doc = {"spec": "0004", "title": "dreamdb.lsh-cosine: ChaCha20 hyperplane signs, f32 left-fold keys, multi-probe order, SpatialIndex records",
       "vectors": vectors}
with open(os.path.join(out, "lsh.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(f"lsh.json: {len(vectors)} vectors")
