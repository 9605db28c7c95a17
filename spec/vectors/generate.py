#!/usr/bin/python3
"""Writes the conformance vectors of spec 0002, 0003 and 0009 from an implementation independent of the
engine: Python integers and datetime for time, cbor2 for CBOR, the b3sum program for BLAKE3.
Run from anywhere: /usr/bin/python3 spec/vectors/generate.py (needs python3-cbor2 and b3sum).
"""
import datetime
import json
import os
import subprocess

from cbor_form import canon, from_json_form

here = os.path.dirname(os.path.abspath(__file__))
# DREAMDB_VECTORS_OUT: write elsewhere (the tests compare a fresh run with the committed files).
out = os.environ.get("DREAMDB_VECTORS_OUT", here)
NS = 10**9
MAX = 2**64 - 1


def write(name, spec, title, vectors):
    doc = {"spec": spec, "title": title, "vectors": vectors}
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    valid = sum(1 for v in vectors if "error" not in v)
    print(f"{name}: {valid} valid, {len(vectors) - valid} invalid")


# ---------------------------------------------------------------- time (spec 0003)
def ceil_div(a, b):
    return -(-a // b)


def rate_parts(r):
    n, _, d = r.partition("/")
    return int(n), int(d or 1)


def unix_ns(text):
    """RFC 3339 -> Unix ns with Python's datetime (microseconds) plus the sub-microsecond digits."""
    frac = ""
    if text.endswith("Z"):
        zone, body = "+00:00", text[:-1]
    else:
        zone, body = text[-6:], text[:-6]
    if "." in body:
        body, frac = body.split(".")
    dt = datetime.datetime.fromisoformat(body + zone)
    whole = (dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(seconds=1)
    return whole * NS + int((frac + "000000000")[:9] or 0)


def format_rfc3339(ns):
    secs, frac = divmod(ns, NS)
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


time = []
for t in (0, 1, 255, 1_000_000_000, 2**32, 2**53 + 1, 86_400 * 104 * NS, MAX - 1, MAX):
    time.append({"name": f"tick {t} to hex", "op": "tick-to-hex", "input": {"ticks": str(t)}, "output": {"hex": f"{t:016x}"}})
for h in ("0000000000000000", "00000000075bcd15", "ffffffffffffffff", "0123456789abcdef"):
    time.append({"name": f"hex {h} to tick", "op": "hex-to-tick", "input": {"hex": h}, "output": {"ticks": str(int(h, 16))}})
for bad, why in (
    ("7b", "too short"),
    ("000000000000007B", "uppercase"),
    ("0000000000000007b", "17 characters"),
    ("0x0000000000007b", "0x prefix"),
    ("00000000000000g0", "not hex"),
    (" 00000000000007b", "leading space"),
    ("-000000000000001", "sign"),
    ("", "empty"),
):
    time.append({"name": f"hex refused: {why}", "op": "hex-to-tick", "input": {"hex": bad}, "error": "E_TICK_FORMAT"})
for bad, code, why in (
    ("-1", "E_TICK_FORMAT", "negative"),
    ("18446744073709551616", "E_TICK_RANGE", "2^64 is past the last tick"),
    ("1.5", "E_TICK_FORMAT", "fraction"),
    ("007", "E_TICK_FORMAT", "leading zeros"),
    ("1e9", "E_TICK_FORMAT", "exponent"),
):
    time.append({"name": f"tick refused: {why}", "op": "tick-to-hex", "input": {"ticks": bad}, "error": code})
for r in ("90000", "48000", "44100", "30000/1001", "24000/1001", "60000/1001", "25", "1000", "1000000000", "3"):
    n, d = rate_parts(r)
    for units in (0, 1, 2, 1001, 29_970, 3_003_000, 10**12 + 7):
        ticks = ceil_div(units * NS * d, n)
        result = {"output": {"ticks": str(ticks)}} if ticks <= MAX else {"error": "E_TICK_RANGE"}
        time.append({"name": f"{units} units at {r} to ticks (ceil)", "op": "units-to-ticks",
                     "input": {"units": str(units), "rate": r}, **result})
    for ticks in (0, 1, 33_366_666, 33_366_667, 10**12 + 11, 86_400 * NS - 1):
        time.append({"name": f"tick {ticks} at {r} to units (floor)", "op": "ticks-to-units",
                     "input": {"ticks": str(ticks), "rate": r}, "output": {"units": str(ticks * n // (NS * d))}})
for r, why in (("0", "zero"), ("30000/0", "zero denominator"), ("-90000", "negative"), ("29.97", "decimal"), ("a/b", "not a number")):
    time.append({"name": f"rate refused: {why}", "op": "units-to-ticks", "input": {"units": "1", "rate": r}, "error": "E_RATE"})
units_overflow = MAX // 1000 + 1
time.append({"name": "units past the last tick refused", "op": "units-to-ticks",
             "input": {"units": str(units_overflow), "rate": "1000"}, "error": "E_TICK_RANGE"})
for s, t in (("0", 0), ("1", NS), ("1.5", 3 * NS // 2), ("0.000000001", 1), ("12.345678901", 12_345_678_901),
             ("1.0000000019", 1_000_000_001), ("18446744073.709551615", MAX)):
    time.append({"name": f"{s} s to ticks", "op": "seconds-to-ticks", "input": {"seconds": s}, "output": {"ticks": str(t)}})
for s, code in (("-1", "E_TIME_FORMAT"), ("1e3", "E_TIME_FORMAT"), (".5", "E_TIME_FORMAT"), ("01.5", "E_TIME_FORMAT"),
                ("abc", "E_TIME_FORMAT"), ("18446744073.709551616", "E_TICK_RANGE")):
    time.append({"name": f"seconds refused: {s}", "op": "seconds-to-ticks", "input": {"seconds": s}, "error": code})
for t in (0, 1, 1_500_000_000, 12_345_678_901, MAX):
    time.append({"name": f"tick {t} to seconds", "op": "ticks-to-seconds", "input": {"ticks": str(t)},
                 "output": {"seconds": f"{t // NS}.{t % NS:09d}"}})
for text in ("2026-11-24T23:45:35Z", "2026-11-24T23:45:35.123456789Z", "2026-11-25T01:45:35.5+02:00",
             "2026-11-24T18:15:35-05:30", "2024-02-29T00:00:00Z", "1970-01-01T00:00:00Z",
             "1969-12-31T23:59:59.999999999Z", "2000-03-01T00:00:00.000000001Z", "9999-12-31T23:59:59.999999999Z",
             "0001-01-01T00:00:00Z", "2026-11-24T23:45:35.1234567899Z"):
    time.append({"name": f"parse {text}", "op": "parse-rfc3339", "input": {"time": text}, "output": {"unix_ns": str(unix_ns(text))}})
for bad in ("2023-02-29T00:00:00Z", "2026-11-24T24:00:00Z", "2016-12-31T23:59:60Z", "2026-11-24T23:45Z",
            "2026-13-01T00:00:00Z", "2026-11-24T23:45:35", "2026-11-24T23:45:35+2:00", "26-11-24T23:45:35Z",
            "2026-11-24T23:45:35.Z", "2026-11-24T23:45:35+24:00"):
    time.append({"name": f"RFC 3339 refused: {bad}", "op": "parse-rfc3339", "input": {"time": bad}, "error": "E_TIME_FORMAT"})
for ns in (0, 1, 1_764_027_935_123_456_789, -1, -86_400 * NS, 253_402_300_799 * NS + NS - 1):
    time.append({"name": f"format {ns} ns", "op": "format-rfc3339", "input": {"unix_ns": str(ns)}, "output": {"time": format_rfc3339(ns)}})
genesis = "2026-11-24T23:45:35Z"
for text in ("2026-11-24T23:45:35Z", "2026-11-24T23:45:36.5Z", "2026-11-25T00:45:35.000000001+01:00"):
    time.append({"name": f"{text} on a timeline from {genesis}", "op": "rfc3339-to-tick",
                 "input": {"time": text, "genesis": genesis}, "output": {"ticks": str(unix_ns(text) - unix_ns(genesis))}})
time.append({"name": "a time before genesis is refused", "op": "rfc3339-to-tick",
             "input": {"time": "2026-11-24T23:45:34.999999999Z", "genesis": genesis}, "error": "E_TICK_RANGE"})
for t in (0, 90_000_000_000, 2**40):
    time.append({"name": f"tick {t} from {genesis}", "op": "tick-to-rfc3339", "input": {"ticks": str(t), "genesis": genesis},
                 "output": {"time": format_rfc3339(unix_ns(genesis) + t)}})
write("time.json", "0003", "Ticks, hex, media rates, seconds and RFC 3339", time)

# ---------------------------------------------------------------- CBOR (spec 0002, 0009 §3)
MH_EMPTY = "1e20af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
valid_values = [
    ("uint 0", 0), ("uint 23", 23), ("uint 24", 24), ("uint 255", 255), ("uint 256", 256), ("uint 65535", 65535),
    ("uint 65536", 65536), ("uint 2^32-1", 2**32 - 1), ("uint 2^32", 2**32), ("uint 2^53+1", {"$bigint": str(2**53 + 1)}),
    ("uint 2^64-1", {"$bigint": str(MAX)}), ("nint -1", -1), ("nint -24", -24), ("nint -25", -25),
    ("nint -2^32-1", -(2**32) - 1), ("nint -2^64+1, the most negative DreamDB integer", {"$bigint": str(-(2**64) + 1)}),
    ("float 1.5 as half", 1.5), ("float 0.1 as double", 0.1), ("float 100000.5 as single", 100000.5),
    ("float 5.960464477539063e-8 half subnormal", 5.960464477539063e-8), ("float 1e300", 1e300), ("float -2.5", -2.5),
    ("float 3.4028234663852886e38 single max", 3.4028234663852886e38), ("float 2^64 is a float", 18446744073709551616.0),
    ("NaN", {"$float": "NaN"}), ("Infinity", {"$float": "Infinity"}), ("-Infinity", {"$float": "-Infinity"}),
    ("false", False), ("true", True), ("null", None),
    ("empty text", ""), ("text a", "a"), ("text of 24 bytes", "x" * 24), ("text of 256 bytes", "y" * 256),
    ("unicode text", "ü水🌊"), ("empty bytes", {"$bytes": ""}), ("bytes", {"$bytes": "00ff10"}),
    ("empty array", []), ("nested arrays", [1, [2, [3, []]]]), ("array of 24", list(range(24))),
    ("empty map", {}), ("map sorted", {"a": 1, "b": 2}), ("map given unsorted", {"b": 1, "a": 2, "aa": 3}),
    ("map with index-like keys", {"10": 1, "9": 2, "a": 3}),
    ("map with mixed keys sorts bytewise, not length-first", {"$map": [[1000, "x"], ["a", "y"], [-1, "z"]]}),
    ("map with integer keys", {"$map": [[2, "b"], [1, "a"], [-2, "d"], [-1, "c"]]}),
    ("key __proto__", {"$map": [["__proto__", 1]]}),
    ("time anchor tag", {"$tag": 65524, "$value": 1_500_000_000}),
    ("time anchor at the last tick", {"$tag": 65524, "$value": {"$bigint": str(MAX)}}),
    ("duration tag", {"$tag": 65525, "$value": 2_000_000_000}),
    ("multihash tag", {"$tag": 65521, "$value": {"$bytes": MH_EMPTY}}),
    ("item address tag", {"$tag": 65522, "$value": [{"$bytes": MH_EMPTY}, 0, 1024]}),
    ("modality tag", {"$tag": 65523, "$value": "video.h264"}),
    ("a record", {"track": "cam", "tick": {"$tag": 65524, "$value": 0}, "payload": {"label": "person", "score": 0.75}}),
]
cbor = []
def sort_maps(v):
    """The JSON form a decoder gives back: $map pairs in canonical key order."""
    if isinstance(v, list):
        return [sort_maps(x) for x in v]
    if isinstance(v, dict):
        if set(v) == {"$map"}:
            pairs = [[k, sort_maps(x)] for k, x in v["$map"]]
            return {"$map": sorted(pairs, key=lambda p: canon(from_json_form(p[0])))}
        return {k: sort_maps(x) for k, x in v.items()}
    return v


for name, value in valid_values:
    value = sort_maps(value)
    cbor.append({"name": name, "value": value, "hex": canon(from_json_form(value)).hex()})
nested = "81" * 300 + "00"
invalid_hex = [
    ("uint 23 in two bytes", "1817", "rfc"), ("uint 255 in three bytes", "1900ff", "rfc"),
    ("uint in five bytes", "1a0000ffff", "rfc"), ("uint in nine bytes", "1b00000000ffffffff", "rfc"),
    ("nint -1 in two bytes", "3800", "rfc"), ("text length in two bytes", "780161", "rfc"),
    ("bytes length in two bytes", "5801ff", "rfc"), ("array length in two bytes", "980100", "rfc"),
    ("map length in two bytes", "b8016161 01".replace(" ", ""), "rfc"), ("tag in five bytes", "da0000fff405", "rfc"),
    ("indefinite array", "9f01ff", "rfc"), ("indefinite text", "7f6161ff", "rfc"), ("indefinite map", "bf616101ff", "rfc"),
    ("unsorted keys", "a2616201616101", "rfc"), ("length-first order, not bytewise", "a320036161021903e801", "rfc"),
    ("duplicate keys", "a2616101616102", "rfc"), ("float 1.5 as single", "fa3fc00000", "rfc"),
    ("float 1.5 as double", "fb3ff8000000000000", "rfc"), ("NaN as double", "fb7ff8000000000000", "rfc"),
    ("NaN with payload", "f97e01", "rfc"),
    ("integral float 1.0", "f93c00", "profile"), ("negative zero", "f98000", "profile"),
    ("undefined", "f7", "profile"), ("simple value 16", "f0", "profile"), ("simple value 32 in two bytes", "f820", "profile"),
    ("tag 1 (epoch time)", "c11a5f000000", "profile"), ("bignum tag 2", "c249010000000000000000", "profile"),
    ("tag 65524 holding text", "d9fff46161", "profile"), ("tag 65521 holding short bytes", "d9fff14100", "profile"),
    ("tag 65522 holding a map", "d9fff2a0", "profile"),
    ("array as map key", "a1800000", "profile"), ("bytes as map key", "a1400000", "profile"),
    ("float as map key", "a1f93e0000", "profile"),
    ("trailing byte", "0000", "rfc"), ("truncated uint", "1901", "rfc"), ("truncated text", "6361", "rfc"),
    ("truncated array", "8201", "rfc"), ("reserved additional info 28", "1c", "rfc"), ("lone break", "ff", "rfc"),
    ("invalid UTF-8", "62c328", "rfc"), ("additional info 31 on an integer", "1f", "rfc"),
    ("additional info 31 on a tag", "df", "rfc"), ("simple value 0 in two bytes", "f800", "rfc"),
    ("truncated multihash tag", "d9fff158", "rfc"), ("tag 65522 over three integers", "d9fff283010203", "profile"),
    ("tag 65522 with start after end", "d9fff28358221e20" + "00" * 32 + "0501", "profile"),
    ("tag 65523 holding bytes", "d9fff34100", "profile"), ("nint -2^64 (outside the profile's range)", "3bffffffffffffffff", "profile"), ("empty input", "", "rfc"), ("nesting deeper than 256", nested, "profile"),
]
MALFORMED = {"trailing byte", "truncated uint", "truncated text", "truncated array", "reserved additional info 28",
             "lone break", "invalid UTF-8", "empty input", "nesting deeper than 256", "additional info 31 on an integer",
             "additional info 31 on a tag", "simple value 0 in two bytes", "truncated multihash tag"}
for name, h, violates in invalid_hex:
    code = "E_CBOR_MALFORMED" if name in MALFORMED else "E_CBOR_NONCANONICAL"
    cbor.append({"name": f"decode refused: {name}", "hex": h, "error": code, "violates": violates})
for name, value, code in (
    ("lone surrogate", "a\ud800b", "E_CBOR_VALUE"),
    ("integer 2^64", {"$bigint": str(2**64)}, "E_CBOR_VALUE"),
    ("integer -2^64", {"$bigint": str(-(2**64))}, "E_CBOR_VALUE"),
    ("tag 1", {"$tag": 1, "$value": 0}, "E_CBOR_VALUE"),
    ("duplicate $map key", {"$map": [[1, "a"], [1, "b"]]}, "E_CBOR_JSON"),
    ("bad $bytes", {"$bytes": "abc"}, "E_CBOR_JSON"),
    ("bad $float", {"$float": "nan"}, "E_CBOR_JSON"),
    ("$ key in a plain map", {"$x": 1}, "E_CBOR_JSON"),
    ("tag 65524 over text", {"$tag": 65524, "$value": "soon"}, "E_CBOR_VALUE"),
    ("tag 65522 with start after end", {"$tag": 65522, "$value": [{"$bytes": MH_EMPTY}, 5, 1]}, "E_CBOR_VALUE"),
):
    cbor.append({"name": f"encode refused: {name}", "value": value, "error": code})
deep = 0
for _ in range(257):
    deep = [deep]
cbor.append({"name": "encode refused: nesting deeper than 256", "value": deep, "error": "E_CBOR_VALUE"})
write("cbor.json", "0009", "Deterministic CBOR: JSON form <-> bytes", cbor)

# ---------------------------------------------------------------- multihash (spec 0002 §3)
def pattern(n):
    return bytes(i % 251 for i in range(n))


def b3(data):
    out = subprocess.run(["b3sum", "--no-names", "-"], input=data, capture_output=True, check=True)
    return "1e20" + out.stdout.decode().strip()


mh = []
for n in (0, 1, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121, 6144, 6145, 7168, 7169,
          8192, 8193, 16384, 31744, 102400):
    mh.append({"name": f"pattern of {n} bytes", "op": "hash", "input": {"pattern_bytes": n}, "output": {"multihash": b3(pattern(n))}})
for text in ("abc", "DreamDB"):
    mh.append({"name": f"text {text}", "op": "hash", "input": {"hex": text.encode().hex()}, "output": {"multihash": b3(text.encode())}})
for bad, why in (
    ("1220" + "00" * 32, "sha2-256 code"), ("1e21" + "00" * 33, "wrong length byte"), ("1e20" + "00" * 31, "short digest"),
    ("1e20" + "00" * 33, "long digest"), ("1E20" + "AB" * 32, "uppercase"), ("1e20" + "zz" * 32, "not hex"),
    ("", "empty"), ("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", "bare digest"),
    ("0x1e20" + "00" * 32, "0x prefix"), (MH_EMPTY + "\n", "trailing newline"), (" " + MH_EMPTY, "leading space"),
    ("1e20" + "0" * 63, "odd length"), ("1e" + "00" * 33, "missing length"), ("00" + MH_EMPTY[2:], "identity code"),
    ("1e20" + "g0" * 32, "g in digest"), ("1e20-" + "00" * 32, "dash"), ("1e 20" + "00" * 32, "inner space"),
    ("1e20" + "00" * 16 + "/" + "00" * 16, "slash"), ("1e20" + "00" * 64, "double digest"), ("1e2000", "two bytes"),
):
    mh.append({"name": f"hex refused: {why}", "op": "parse", "input": {"hex": bad}, "error": "E_MULTIHASH"})
write("multihash.json", "0002", "BLAKE3-256 multihash (0x1e 0x20) of bytes; hex form", mh)

# ---------------------------------------------------------------- addresses (spec 0002 §6)
addr = []
for space, start, end in (("s1", 0, 0), ("s1", 0, 1024), ("lab-42", 100, 200), ("a", 9007199254740990, 9007199254740991),
                          ("team.robots_v2", 5, 5), ("0", 1, 2), ("x" * 64, 0, 104857600), ("user-research", 17, 1048593),
                          ("a.b-c_d", 3, 4), ("sports", 0, 1), ("meet", 65535, 65536), ("ab", 12, 100),
                          ("s2", 4096, 8192), ("s3", 1, 1), ("z9", 0, 7), ("sensor-lab", 8, 9),
                          ("q", 2**32, 2**32 + 1), ("s1", 999, 1000), ("s1", 10, 20), ("s1", 0, 34)):
    uri = f"dreamdb://{space}/{MH_EMPTY}#bytes:{start}-{end}"
    addr.append({"name": f"{space} {start}-{end}", "op": "parse", "input": {"uri": uri},
                 "output": {"space": space, "object": MH_EMPTY, "start": start, "end": end}})
for bad, why in (
    (f"http://s1/{MH_EMPTY}#bytes:0-1", "other scheme"), (f"dreamdb://s1/{MH_EMPTY}", "no byte range"),
    (f"dreamdb://s1/{MH_EMPTY}#bytes:5-4", "end before start"), (f"dreamdb://s1/{MH_EMPTY}#bytes:01-4", "leading zero"),
    (f"dreamdb://s1/{MH_EMPTY}#bytes:-1-4", "negative"), (f"dreamdb://S1/{MH_EMPTY}#bytes:0-1", "uppercase space"),
    (f"dreamdb://a..b/{MH_EMPTY}#bytes:0-1", "dot-dot space"), (f"dreamdb://s1/objects/{MH_EMPTY}#bytes:0-1", "extra path"),
    (f"dreamdb://s1/{MH_EMPTY}?x=1#bytes:0-1", "query"), (f"dreamdb:///{MH_EMPTY}#bytes:0-1", "no space"),
    (f"dreamdb://s1/{MH_EMPTY.upper()}#bytes:0-1", "uppercase hash"), (f"dreamdb://s1/1220{'00' * 32}#bytes:0-1", "sha256"),
    (f"dreamdb://s1/{MH_EMPTY}#bytes:0-", "open range"), (f"dreamdb://s1/{MH_EMPTY}#bytes: 0-1", "space in range"),
    (f"dreamdb://s1/{MH_EMPTY}#bytes:0-99999999999999999", "offset past 2^53"), (f"dreamdb://s1/{MH_EMPTY}#range:0-1", "wrong fragment"),
    (f"dreamdb://s1/{MH_EMPTY}#bytes:0-1 ", "trailing space"), (f"DREAMDB://s1/{MH_EMPTY}#bytes:0-1", "uppercase scheme"),
    (f"dreamdb://-s1/{MH_EMPTY}#bytes:0-1", "space starts with dash"), (f"dreamdb://s1/{MH_EMPTY}#bytes:1.5-2", "fraction"),
    ("", "empty"),
):
    addr.append({"name": f"refused: {why}", "op": "parse", "input": {"uri": bad}, "error": "E_ADDRESS"})
write("address.json", "0002", "dreamdb:// item addresses with #bytes:<start>-<end> (end exclusive)", addr)

# ---------------------------------------------------------------- modality tags (spec 0002 §5)
mod = []
for tag, segs, params, builtin in (
    ("video", ["video"], {}, True), ("video.h264", ["video", "h264"], {}, True), ("audio.aac;rate=48000", ["audio", "aac"], {"rate": "48000"}, True),
    ("vector.f32;dim=768", ["vector", "f32"], {"dim": "768"}, True),
    ("vector.f32;compress=dreamdb.qinco-cosine;dim=768", ["vector", "f32"], {"compress": "dreamdb.qinco-cosine", "dim": "768"}, True),
    ("com.acme.lidar", ["com", "acme", "lidar"], {}, False), ("org.example.robot.joint-state", ["org", "example", "robot", "joint-state"], {}, False),
    ("event.detection", ["event", "detection"], {}, True), ("text.caption;lang=en", ["text", "caption"], {"lang": "en"}, True),
    ("sensor.imu", ["sensor", "imu"], {}, True), ("image.jpeg", ["image", "jpeg"], {}, True), ("meta.calibration", ["meta", "calibration"], {}, True),
    ("com.3m.scanner", ["com", "3m", "scanner"], {}, False), ("video.h264;codec=avc1.64001f", ["video", "h264"], {"codec": "avc1.64001f"}, True),
    ("audio.opus;channels=2;rate=48000", ["audio", "opus"], {"channels": "2", "rate": "48000"}, True),
    ("event.annotation", ["event", "annotation"], {}, True), ("text.transcript;lang=pt-BR", ["text", "transcript"], {"lang": "pt-BR"}, True),
    ("vector.f32;dim=128;model=clip:vit-b/32", ["vector", "f32"], {"dim": "128", "model": "clip:vit-b/32"}, True),
    ("io.github.user.thing-2", ["io", "github", "user", "thing-2"], {}, False), ("video.av1;profile=0", ["video", "av1"], {"profile": "0"}, True),
    ("sensor.gps;units=wgs84+m", ["sensor", "gps"], {"units": "wgs84+m"}, True),
):
    mod.append({"name": tag, "op": "parse", "input": {"tag": tag}, "output": {"segments": segs, "params": params, "builtin": builtin}})
for bad, why in (
    ("", "empty"), ("Video", "uppercase"), ("video..h264", "empty segment"), (".video", "leading dot"), ("video.", "trailing dot"),
    ("acme.lidar", "two-segment user tag"), ("lidar", "unknown family"), ("com.acme.lidar;", "empty parameter"),
    ("video;dim", "parameter without value"), ("video;=3", "parameter without key"), ("video;b=1;a=2", "parameters out of order"),
    ("video;a=1;a=2", "parameter twice"), ("video.h_264", "underscore"), ("video.-x", "leading hyphen"), ("video.x-", "trailing hyphen"),
    ("1video", "family starts with a digit"), ("video;Key=1", "uppercase key"), ("video;k=", "empty value"), ("video;k=a b", "space in value"),
    ("video." + "a" * 64, "segment over 63"), ("video;k=" + "a" * 250, "over 255 characters"), ("vídeo", "non-ASCII"),
    ("video h264", "space"), ("video.h264;k=v=w", "equals in value"),
):
    mod.append({"name": f"refused: {why}", "op": "parse", "input": {"tag": bad}, "error": "E_MODALITY"})
write("modality.json", "0002", "Modality tags: dot-separated lowercase segments, reverse-DNS user tags, ;key=value parameters", mod)

# ---------------------------------------------------------------- data model (spec 0001)
def tag(t, v):
    return {"$tag": t, "$value": v}


mh_empty = {"$bytes": MH_EMPTY}
model_valid = [
    ("space", "space", {"name": "lab"}), ("space with title", "space", {"name": "lab", "title": "Robotics lab"}),
    ("timeline", "timeline", {"name": "session-1"}),
    ("timeline with genesis", "timeline", {"name": "s1", "genesis_unix_ns": {"$bigint": "1764027935000000000"}, "title": "Run 7"}),
    ("timeline with a genesis before 1970", "timeline", {"name": "old", "genesis_unix_ns": -86400000000000}),
    ("stream track", "track", {"timeline": "s1", "name": "cam", "kind": "stream", "modality": tag(65523, "video.h264"),
                               "rate": [90000, 1], "codecs": "avc1.64001f"}),
    ("audio track", "track", {"timeline": "s1", "name": "mic", "kind": "stream", "modality": tag(65523, "audio.aac"), "rate": [48000, 1]}),
    ("event track", "track", {"timeline": "s1", "name": "detections", "kind": "event", "modality": tag(65523, "event.detection"),
                              "bucket_duration": tag(65525, 60_000_000_000)}),
    ("constant track", "track", {"timeline": "s1", "name": "calib", "kind": "constant", "modality": tag(65523, "meta.calibration")}),
    ("user-tag track with attrs", "track", {"timeline": "s1", "name": "lidar", "kind": "event", "modality": tag(65523, "com.acme.lidar"),
                                            "bucket_duration": tag(65525, 1_000_000_000), "attrs": {"device": "ouster-os1", "hz": 10}}),
    ("event item", "item", {"track": "detections", "tick": tag(65524, 1_500_000_000), "payload": {"label": "person", "score": 0.75}}),
    ("stream item", "item", {"track": "cam", "tick": tag(65524, 0), "duration": tag(65525, 2_000_000_000), "payload": {"$bytes": "00000008"}}),
    ("constant item", "item", {"track": "calib", "tick": tag(65524, 0), "layer": "2026-11-24", "payload": {"fx": 600.5}}),
    ("manifest", "manifest", {"v": 1, "space": "lab", "parents": [], "created_unix_ns": {"$bigint": "1764027935000000000"},
                              "timelines": [{"name": "s1"}], "tracks": []}),
    ("manifest with parents and tracks", "manifest", {
        "v": 1, "space": "lab", "parents": [tag(65521, mh_empty)], "created_unix_ns": 1, "author": "ana", "message": "first cut",
        "timelines": [{"name": "a"}, {"name": "b"}],
        "tracks": [{"timeline": "a", "name": "cam", "kind": "stream", "modality": tag(65523, "video.h264"), "rate": [90000, 1]},
                   {"timeline": "a", "name": "notes", "kind": "event", "modality": tag(65523, "event.annotation"),
                    "bucket_duration": tag(65525, 60_000_000_000)},
                   {"timeline": "b", "name": "cam", "kind": "stream", "modality": tag(65523, "video.vp9"), "rate": [1000, 1]}]}),
]
# Track indexes (0001 §4.1): a map from scheme to {params, segments}; a kind the reader knows checks its params.
LSH = "dreamdb.lsh-cosine"
TEXT = "dreamdb.text-bm25"
lsh_params = {"v": 0, "scheme": LSH, "dimension": 4, "tables": 2, "bits": 3, "probes": 2, "seed": {"$bytes": "07" * 32}}
segment = {"object": tag(65521, mh_empty), "count": 3, "first": tag(65524, 1), "last": tag(65524, 9)}
vector_track = {"timeline": "s1", "name": "emb", "kind": "event", "modality": tag(65523, "vector.f32;dim=4"),
                "bucket_duration": tag(65525, 60_000_000_000), "indexes": {LSH: {"params": lsh_params, "segments": [segment]}}}
notes_track = {"timeline": "s1", "name": "notes", "kind": "event", "modality": tag(65523, "event.annotation"),
               "bucket_duration": tag(65525, 60_000_000_000), "indexes": {TEXT: {"params": {"analyzer": "dreamdb.text-en-1"}, "segments": []}}}
model_valid += [
    ("vector track with a dreamdb.lsh-cosine index and one segment", "track", vector_track),
    ("annotation track with a dreamdb.text-bm25 index, no segment yet", "track", notes_track),
    ("track with an index of a scheme this reader does not know (kept as it is)", "track",
     {**notes_track, "indexes": {"com.acme.label-counts": {"params": {"labels": ["person", "car"]}, "segments": [segment]}}}),
    ("track with two indexes", "track", {**vector_track, "indexes": {**vector_track["indexes"], "com.acme.norms": {"params": {}, "segments": []}}}),
]
model = []
for name, entity, value in model_valid:
    model.append({"name": name, "op": f"decode-{entity}", "value": value, "hex": canon(from_json_form(value)).hex()})
track = {"timeline": "s1", "name": "cam", "kind": "stream", "modality": tag(65523, "video.h264"), "rate": [90000, 1]}
model_invalid = [
    ("space name uppercase", "space", {"name": "Lab"}, "space.name"),
    ("space unknown field", "space", {"name": "lab", "owner": "x"}, "space.owner"),
    ("space name missing", "space", {"title": "x"}, "space.name"),
    ("space name with dot-dot", "space", {"name": "a..b"}, "space.name"),
    ("timeline genesis as text", "timeline", {"name": "s1", "genesis_unix_ns": "2026"}, "timeline.genesis_unix_ns"),
    ("timeline genesis past int64", "timeline", {"name": "s1", "genesis_unix_ns": {"$bigint": str(2**63)}}, "timeline.genesis_unix_ns"),
    ("track kind unknown", "track", {**track, "kind": "video"}, "track.kind"),
    ("track modality untagged", "track", {**track, "modality": "video.h264"}, "track.modality"),
    ("track modality malformed", "track", {**track, "modality": tag(65523, "Video")}, "track.modality"),
    ("stream track without rate", "track", {k: v for k, v in track.items() if k != "rate"}, "track.rate"),
    ("stream track rate zero", "track", {**track, "rate": [0, 1]}, "track.rate"),
    ("stream track of events", "track", {**track, "modality": tag(65523, "event.detection")}, "track.modality"),
    ("event track without bucket duration", "track", {"timeline": "s1", "name": "e", "kind": "event", "modality": tag(65523, "event.x")}, "track.bucket_duration"),
    ("event track with rate", "track", {"timeline": "s1", "name": "e", "kind": "event", "modality": tag(65523, "event.x"),
                                        "bucket_duration": tag(65525, 1), "rate": [1, 1]}, "track.rate"),
    ("event track bucket duration zero", "track", {"timeline": "s1", "name": "e", "kind": "event", "modality": tag(65523, "event.x"),
                                                   "bucket_duration": tag(65525, 0)}, "track.bucket_duration"),
    ("item tick untagged", "item", {"track": "cam", "tick": 5, "payload": None}, "item.tick"),
    ("item tick as duration tag", "item", {"track": "cam", "tick": tag(65525, 5), "payload": None}, "item.tick"),
    ("item without payload", "item", {"track": "cam", "tick": tag(65524, 5)}, "item.payload"),
    ("item ending past the last tick", "item", {"track": "cam", "tick": tag(65524, {"$bigint": str(MAX)}),
                                                "duration": tag(65525, 1), "payload": None}, "item.duration"),
    ("manifest version 0 (tracks had spatial and text fields)", "manifest", {"v": 0, "space": "lab", "parents": [], "created_unix_ns": 0, "timelines": [], "tracks": []}, "manifest.v"),
    ("manifest version 2", "manifest", {"v": 2, "space": "lab", "parents": [], "created_unix_ns": 0, "timelines": [], "tracks": []}, "manifest.v"),
    ("manifest parent not a multihash", "manifest", {"v": 1, "space": "lab", "parents": [{"$bytes": MH_EMPTY}],
                                                     "created_unix_ns": 0, "timelines": [], "tracks": []}, "manifest.parents[0]"),
    ("manifest parent twice", "manifest", {"v": 1, "space": "lab", "parents": [tag(65521, mh_empty), tag(65521, mh_empty)],
                                           "created_unix_ns": 0, "timelines": [], "tracks": []}, "manifest.parents[1]"),
    ("manifest track on a missing timeline", "manifest", {"v": 1, "space": "lab", "parents": [], "created_unix_ns": 0,
                                                          "timelines": [{"name": "a"}], "tracks": [{**track, "timeline": "b"}]}, "manifest.tracks[0].timeline"),
    ("manifest timelines unsorted", "manifest", {"v": 1, "space": "lab", "parents": [], "created_unix_ns": 0,
                                                 "timelines": [{"name": "b"}, {"name": "a"}], "tracks": []}, "manifest.timelines[1]"),
    ("manifest duplicate track", "manifest", {"v": 1, "space": "lab", "parents": [], "created_unix_ns": 0,
                                              "timelines": [{"name": "s1"}], "tracks": [track, track]}, "manifest.tracks[1]"),
]
model_invalid += [
    ("track indexes empty (leave the field out)", "track", {**notes_track, "indexes": {}}, "track.indexes"),
    ("track index scheme not a scheme name", "track", {**notes_track, "indexes": {"LSH": {"params": {}, "segments": []}}}, "track.indexes.LSH"),
    ("track index without segments", "track", {**notes_track, "indexes": {TEXT: {"params": {"analyzer": "dreamdb.text-en-1"}}}},
     f"track.indexes.{TEXT}.segments"),
    ("track index segment of no items", "track", {**vector_track, "indexes": {LSH: {"params": lsh_params, "segments": [{**segment, "count": 0}]}}},
     f"track.indexes.{LSH}.segments[0]"),
    ("track index params not a map", "track", {**notes_track, "indexes": {TEXT: {"params": [], "segments": []}}}, f"track.indexes.{TEXT}.params"),
    ("lsh index of another dimension than the track", "track",
     {**vector_track, "modality": tag(65523, "vector.f32;dim=8")}, f"track.indexes.{LSH}.params.dimension"),
    ("lsh index with an unknown parameter", "track",
     {**vector_track, "indexes": {LSH: {"params": {**lsh_params, "metric": "l2"}, "segments": []}}}, f"track.indexes.{LSH}.params.metric"),
    ("lsh index of 0 tables", "track",
     {**vector_track, "indexes": {LSH: {"params": {**lsh_params, "tables": 0}, "segments": []}}}, f"track.indexes.{LSH}.params.tables"),
    ("lsh index on an annotation track", "track",
     {**notes_track, "indexes": {LSH: {"params": lsh_params, "segments": []}}}, f"track.indexes.{LSH}"),
    ("text index of another analyzer", "track",
     {**notes_track, "indexes": {TEXT: {"params": {"analyzer": "dreamdb.text-fr-1"}, "segments": []}}}, f"track.indexes.{TEXT}.params.analyzer"),
    ("text index on a stream track", "track",
     {**track, "indexes": {TEXT: {"params": {"analyzer": "dreamdb.text-en-1"}, "segments": []}}}, f"track.indexes.{TEXT}"),
    ("track with the v0 spatial field", "track", {**notes_track, "spatial": {}}, "track.spatial"),
]
for name, entity, value, path in model_invalid:
    model.append({"name": name, "op": f"decode-{entity}", "hex": canon(from_json_form(value)).hex(), "error": "E_FIELD", "path": path})
write("model.json", "0001", "Data-model records: canonical CBOR maps of Space, Timeline, Track, Item, Manifest", model)

# ---------------------------------------------------------------- backend contract (spec 0005)
backend = []
for raw, norm in (('"abc"', "abc"), ("abc", "abc"), ('W/"abc"', "abc"), ('w/"ABC"', "abc"), ('"9B2CF535F27731C974343645A3985328-2"', "9b2cf535f27731c974343645a3985328-2"),
                  (' "x" ', "x"), ('""', ""), ("", ""), ('W/"d41d8cd98f00b204e9800998ecf8427e"', "d41d8cd98f00b204e9800998ecf8427e"),
                  ('"a-1"', "a-1"), ('"quoted', '"quoted'), ("W/bare", "bare")):
    backend.append({"name": f"ETag {raw!r} normalizes to {norm!r}", "op": "normalize-etag", "input": {"etag": raw}, "output": {"etag": norm}})


def parse_range(header, size):
    """RFC 9110 single byte range, clipped like S3; returns (start, end) half-open or an error code."""
    import re
    m = re.fullmatch(r"bytes=(\d{0,16})-(\d{0,16})", header.strip())
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return "E_BAD_REQUEST"
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0 or size == 0:
            return "E_RANGE"
        return (max(0, size - n), size)
    start = int(m.group(1))
    if m.group(2) != "" and int(m.group(2)) < start:
        return "E_BAD_REQUEST"
    if start >= size:
        return "E_RANGE"
    end = size if m.group(2) == "" else min(int(m.group(2)) + 1, size)
    return (start, end)


for header, size in (("bytes=0-0", 10), ("bytes=0-9", 10), ("bytes=2-", 10), ("bytes=-3", 10), ("bytes=-30", 10), ("bytes=5-99", 10),
                     ("bytes=9-9", 10), ("bytes=0-", 1), (" bytes=1-2 ", 10), ("bytes=3-3", 4), ("bytes=0-1048575", 104857600),
                     ("bytes=10-", 10), ("bytes=-0", 10), ("bytes=-1", 0), ("bytes=0-0", 0), ("bytes=11-20", 10),
                     ("bytes=", 10), ("bytes=a-b", 10), ("items=0-1", 10), ("bytes=0-1,2-3", 10), ("bytes=3-2", 10), ("bytes 0-1", 10),
                     ("bytes=--1", 10), ("bytes=1.5-2", 10), ("bytes=0x1-2", 10)):
    result = parse_range(header, size)
    vector = {"name": f"Range {header!r} of {size} bytes", "op": "parse-range", "input": {"header": header, "size": size}}
    if isinstance(result, str):
        vector["error"] = result
    else:
        vector["output"] = {"start": result[0], "end": result[1]}
    backend.append(vector)
for ref in ("main", "heads/team-a", "tags/v1.0", "heads/a/b/c", "users/ana_b", "0", "a" * 64, "a/b/c/d/e/f/g/h", "x.y-z_w"):
    backend.append({"name": f"ref name {ref}", "op": "ref-name", "input": {"ref": ref}, "output": {"key": f"spaces/lab/refs/{ref}"}})
for ref in ("", "Main", "heads//a", "/main", "main/", "..", "heads/..", "a..b", "-x", ".x", "heads/team a", "a/b/c/d/e/f/g/h/i", "a" * 65, "refs\\main", "héad"):
    backend.append({"name": f"ref name refused: {ref!r}", "op": "ref-name", "input": {"ref": ref}, "error": "E_NAME"})
write("backend.json", "0005", "Backend contract: ETag normalization, Range headers, ref names and keys", backend)

# ---------------------------------------------------------------- objects, buckets, index pages (spec 0007)
import math
import struct

import cbor2


def seal(kind, header, payload=b""):
    h = canon(header)
    return b"DRDB" + bytes([0, kind]) + b"\x00\x00" + struct.pack(">I", len(h)) + h + payload


def mh(data):
    return bytes.fromhex(b3(data))


def imul(a, b):
    r = (a * b) & 0xFFFFFFFF
    return r - (1 << 32) if r >= 1 << 31 else r


def s32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


def tick_hash(tick, level):
    lo = s32(tick & 0xFFFFFFFF)
    hi = s32((tick >> 32) & 0xFFFFFFFF)
    h = s32(imul(lo ^ s32(0x9E3779B9), s32(0x85EBCA6B)) ^ imul(s32(hi + imul(level + 1, 0x27D4EB2D)), s32(0xC2B2AE35)))
    h = s32(h ^ ((h & 0xFFFFFFFF) >> 16))
    h = imul(h, 0x7FEB352D)
    h = s32(h ^ ((h & 0xFFFFFFFF) >> 15))
    h = imul(h, s32(0x846CA68B))
    h = s32(h ^ ((h & 0xFFFFFFFF) >> 16))
    return h & 0xFFFFFFFF


LEAF_TARGET, LEAF_MAX, NODE_TARGET, NODE_MAX = 1024, 4096, 256, 1024


def is_boundary(tick, level):
    return tick_hash(tick, level) % (LEAF_TARGET if level == 0 else NODE_TARGET) == 0


fmt = []
for tick, level in ((0, 0), (1, 0), (255, 0), (2**32, 0), (2**32 + 7, 1), (123_456_789_012, 0), (123_456_789_012, 1),
                    (2**64 - 1, 0), (2**64 - 1, 3), (30_000_000, 0), (1_000_000_000, 2), (86_400_000_000_000, 0)):
    fmt.append({"name": f"page boundary hash of tick {tick} at level {level}", "op": "tick-hash",
                "input": {"tick": str(tick), "level": level}, "output": {"hash": tick_hash(tick, level), "boundary": is_boundary(tick, level)}})
# Ticks that close a leaf (h mod 1024 = 0), and ticks whose hash is 0 mod 256 but not mod 1024: a boundary
# above the leaves, not at them.
found = {"leaf": [], "inner-only": []}
t = 0
while len(found["leaf"]) < 2 or len(found["inner-only"]) < 2:
    h = tick_hash(t, 0)
    if h % 1024 == 0 and len(found["leaf"]) < 2:
        found["leaf"].append(t)
    elif h % 256 == 0 and h % 1024 != 0 and len(found["inner-only"]) < 2:
        found["inner-only"].append(t)
    t += 1
for tick in found["leaf"] + found["inner-only"]:
    for level in (0, 1):
        fmt.append({"name": f"page boundary of tick {tick} at level {level}", "op": "tick-hash",
                    "input": {"tick": str(tick), "level": level},
                    "output": {"hash": tick_hash(tick, level), "boundary": is_boundary(tick, level)}})


def chunk_ends(ticks, level):
    limit = LEAF_MAX if level == 0 else NODE_MAX
    ends, start = [], 0
    for i, tick in enumerate(ticks):
        if is_boundary(tick, level) or i + 1 - start == limit:
            ends.append(i + 1)
            start = i + 1
    if start < len(ticks):
        ends.append(len(ticks))
    return ends


# Page cuts over 20,000 keys 1 ms apart, and over keys 0..9999 (some pages cut by the size limit).
for first, step, count in ((1_700_000_000_000_000_000, 1_000_000, 20_000), (0, 1, 10_000)):
    for level in (0, 1):
        ticks = [first + i * step for i in range(count)]
        fmt.append({"name": f"page cuts of {count} keys from {first} every {step} at level {level}", "op": "chunk-ends",
                    "input": {"first": str(first), "step": str(step), "count": count, "level": level},
                    "output": {"ends": chunk_ends(ticks, level)}})
# A run of keys none of which is a boundary: pages are cut at the size limit.
quiet = [t for t in range(0, 200_000) if not is_boundary(t, 0)][:9000]
fmt.append({"name": "9000 keys with no leaf boundary are cut every 4096", "op": "chunk-ends",
            "input": {"first": "0", "step": "1", "count": 9000, "level": 0, "skipBoundaries": True},
            "output": {"ends": chunk_ends(quiet, 0)}})

items = [(5, 0, bytes([1, 2, 3])), (9, 4, bytes([4])), (2**40, 0, b"")]
header = {"v": 0, "kind": "event", "track": "notes", "first": cbor2.CBORTag(65524, 5), "deltas": [0, 4, 2**40 - 9],
          "lengths": [3, 1, 0], "timeline": "s1", "durations": [0, 4, 0]}
bucket = seal(3, header, b"".join(i[2] for i in items))
fmt.append({"name": "an event bucket of three items", "op": "encode-bucket",
            "input": {"timeline": "s1", "track": "notes", "kind": "event",
                      "items": [{"tick": str(t), "duration": str(d), "bytes": b.hex()} for t, d, b in items]},
            "output": {"hex": bucket.hex()}})
stream_items = [(0, 2_000_000_000, b"moof-mdat-0"), (2_000_000_000, 2_000_000_000, b"moof-mdat-1")]
stream_header = {"v": 0, "kind": "stream", "track": "cam", "first": cbor2.CBORTag(65524, 0), "deltas": [0, 2_000_000_000],
                 "lengths": [11, 11], "timeline": "s1", "durations": [2_000_000_000, 2_000_000_000]}
fmt.append({"name": "a stream bucket: fragments back to back", "op": "encode-bucket",
            "input": {"timeline": "s1", "track": "cam", "kind": "stream",
                      "items": [{"tick": str(t), "duration": str(d), "bytes": b.hex()} for t, d, b in stream_items]},
            "output": {"hex": seal(3, stream_header, b"".join(i[2] for i in stream_items)).hex()}})
# A vector bucket names its track's vector index lineage; a bucket of items stored as parts names the parts.
lineage = mh(b"a SpatialIndex record")
part_a, part_b = mh(b"part a"), mh(b"part b")
vector_items = [(1, 0, b"\xa1"), (2, 0, b"\xa2")]
vector_header = {"v": 0, "kind": "event", "track": "emb", "first": cbor2.CBORTag(65524, 1), "deltas": [0, 1],
                 "lengths": [1, 1], "timeline": "s1", "spatial_index": cbor2.CBORTag(65521, lineage),
                 "parts": [cbor2.CBORTag(65521, part_a), cbor2.CBORTag(65521, part_b)]}
fmt.append({"name": "a bucket naming its vector index lineage and the parts of its items", "op": "encode-bucket",
            "input": {"timeline": "s1", "track": "emb", "kind": "event", "spatial_index": lineage.hex(),
                      "parts": [part_a.hex(), part_b.hex()],
                      "items": [{"tick": str(t), "duration": str(d), "bytes": b.hex()} for t, d, b in vector_items]},
            "output": {"hex": seal(3, vector_header, b"".join(i[2] for i in vector_items)).hex()}})
fmt.append({"name": "a vector bucket read for its own lineage", "op": "decode-bucket",
            "input": {"hex": seal(3, vector_header, b"\xa1\xa2").hex(), "lineage": lineage.hex()}, "output": {"items": 2}})
fmt.append({"name": "bucket refused for a track of another lineage", "op": "decode-bucket",
            "input": {"hex": seal(3, vector_header, b"\xa1\xa2").hex(), "lineage": mh(b"another SpatialIndex").hex()},
            "error": "E_LINEAGE"})
fmt.append({"name": "bucket refused for a track without a vector index: it names a lineage", "op": "decode-bucket",
            "input": {"hex": seal(3, vector_header, b"\xa1\xa2").hex(), "lineage": None}, "error": "E_LINEAGE"})
fmt.append({"name": "bucket without a lineage refused for a track with a vector index", "op": "decode-bucket",
            "input": {"hex": bucket.hex(), "lineage": lineage.hex()}, "error": "E_LINEAGE"})
fmt.append({"name": "bucket refused: an empty parts list (leave it out)", "op": "decode-bucket",
            "input": {"hex": seal(3, {**vector_header, "parts": []}, b"\xa1\xa2").hex()}, "error": "E_FIELD", "path": "bucket.parts"})
fmt.append({"name": "bucket refused: a lineage as bare bytes, not tagged as a multihash", "op": "decode-bucket",
            "input": {"hex": seal(3, {**vector_header, "spatial_index": lineage}, b"\xa1\xa2").hex()},
            "error": "E_FIELD", "path": "bucket.spatial_index"})
obj_a, obj_b = mh(b"bucket a"), mh(b"bucket b")
entries = [(100, 0, obj_a, 12, 20), (150, 10, obj_a, 20, 25), (400, 0, obj_b, 12, 40)]
leaf_header = {"v": 0, "kind": "leaf", "refs": [0, 0, 1], "first": cbor2.CBORTag(65524, 100), "track": "notes",
               "deltas": [0, 50, 250], "starts": [12, 20, 12], "lengths": [8, 5, 28],
               "objects": [cbor2.CBORTag(65521, obj_a), cbor2.CBORTag(65521, obj_b)], "durations": [0, 10, 0]}
fmt.append({"name": "a leaf page of three entries over two buckets", "op": "encode-leaf",
            "input": {"track": "notes", "entries": [{"tick": str(t), "duration": str(d), "object": o.hex(), "start": s, "end": e} for t, d, o, s, e in entries]},
            "output": {"hex": seal(2, leaf_header).hex()}})
node_header = {"v": 0, "kind": "node", "level": 1, "first": cbor2.CBORTag(65524, 100), "track": "notes", "counts": [3, 250],
               "deltas": [0, 900], "spans": [300, 5000], "children": [cbor2.CBORTag(65521, obj_a), cbor2.CBORTag(65521, obj_b)]}
fmt.append({"name": "an inner page of two children", "op": "encode-node",
            "input": {"track": "notes", "level": 1, "children": [{"first": "100", "last": "400", "page": obj_a.hex(), "count": 3},
                                                                  {"first": "1000", "last": "6000", "page": obj_b.hex(), "count": 250}]},
            "output": {"hex": seal(2, node_header).hex()}})
im_header = {"v": 0, "size": 100, "parts": [[cbor2.CBORTag(65521, obj_a), 64], [cbor2.CBORTag(65521, obj_b), 36]]}
fmt.append({"name": "an item manifest of two parts", "op": "encode-item-manifest",
            "input": {"size": 100, "parts": [{"object": obj_a.hex(), "size": 64}, {"object": obj_b.hex(), "size": 36}]},
            "output": {"hex": seal(4, im_header).hex()}})
fmt.append({"name": "item manifest refused: parts do not add up to its size", "op": "decode-item-manifest",
            "input": {"hex": seal(4, {**im_header, "size": 101}).hex()}, "error": "E_FIELD"})
# TombstoneList (spec 0020 §3): envelope kind 8, header only; ticks as time anchors (65524).
def tick_tag(t):
    return cbor2.CBORTag(65524, int(t))
tomb_input = {"space": "lab", "erase": True, "tombstones": [
    {"timeline": "s1", "track": "det", "from": "15000000000", "to": "20000000000", "count": 5, "root": obj_a.hex()},
    {"timeline": "s1", "track": "cam", "count": 30, "root": obj_b.hex()},
    {"timeline": "old", "count": 0},
    {"timeline": "s1", "track": "emb", "from": "5000000000000", "count": 2}]}
def tomb_cbor(t):
    out = {"timeline": t["timeline"], "count": t["count"]}
    if "track" in t: out["track"] = t["track"]
    if "from" in t and int(t["from"]) != 0: out["from"] = tick_tag(t["from"])
    if "to" in t: out["to"] = tick_tag(t["to"])
    if "root" in t: out["root"] = cbor2.CBORTag(65521, bytes.fromhex(t["root"]))
    return out
tomb_sorted = sorted(tomb_input["tombstones"], key=lambda t: (t["timeline"], t.get("track", ""), int(t.get("from", "0"))))
tomb_header = {"v": 1, "space": "lab", "erase": True, "tombstones": [tomb_cbor(t) for t in tomb_sorted]}
fmt.append({"name": "a tombstone list: a range, a whole track, a timeline, a range to the end of time", "op": "encode-tombstone-list",
            "input": tomb_input, "output": {"hex": seal(8, tomb_header).hex()}})
for why, header in (("a range without a track", {**tomb_header, "tombstones": [{"timeline": "s1", "count": 1, "from": tick_tag(5)}]}),
                    ("to not after from", {**tomb_header, "tombstones": [{"timeline": "s1", "track": "det", "count": 1, "from": tick_tag(9), "to": tick_tag(9)}]}),
                    ("erase not a boolean", {**tomb_header, "erase": 1}),
                    ("version 2", {**tomb_header, "v": 2})):
    fmt.append({"name": f"tombstone list refused: {why}", "op": "decode-tombstone-list",
                "input": {"hex": seal(8, header).hex()}, "error": "E_FIELD"})
# DroppedTicks (spec 0020 §2.1): envelope kind 9, header only, ticks ascending as time anchors.
dropped_ticks = ["5", "9", "1099511627776"]
fmt.append({"name": "dropped ticks of a text segment", "op": "encode-dropped-ticks", "input": {"ticks": ["9", "5", "1099511627776", "9"]},
            "output": {"hex": seal(9, {"v": 1, "ticks": [tick_tag(t) for t in dropped_ticks]}).hex()}})
fmt.append({"name": "dropped ticks refused: not ascending", "op": "decode-dropped-ticks",
            "input": {"hex": seal(9, {"v": 1, "ticks": [tick_tag(9), tick_tag(5)]}).hex()}, "error": "E_FIELD"})
# The space's tombstone registry (spec 0020 §4): plain deterministic CBOR at spaces/<space>/tombstones.
reg_input = {"space": "lab", "deletes": [mh(b"m2").hex(), mh(b"m1").hex()],
             "erased": [{"object": obj_b.hex(), "ranges": [[200, 300], [12, 40]], "replacement": mh(b"y").hex()},
                        {"object": obj_a.hex(), "ranges": []}]}
reg_value = {"v": 1, "space": "lab", "deletes": sorted(reg_input["deletes"]),
             "erased": sorted([{"object": e["object"], "ranges": sorted(e["ranges"]), **({"replacement": e["replacement"]} if "replacement" in e else {})}
                               for e in reg_input["erased"]], key=lambda e: e["object"])}
fmt.append({"name": "a tombstone registry: two deletes, an object erased with its replacement, a part erased whole",
            "op": "encode-tombstone-registry", "input": reg_input, "output": {"hex": canon(reg_value).hex()}})
good = seal(2, leaf_header)
for name, data in (("bad magic", b"XRDB" + good[4:]), ("envelope version 1", good[:4] + b"\x01" + good[5:]),
                   ("unknown kind 9", good[:5] + b"\x09" + good[6:]), ("nonzero flags", good[:6] + b"\x00\x01" + good[8:]),
                   ("header longer than the object", good[:8] + struct.pack(">I", len(good)) + good[12:]),
                   ("shorter than the preamble", good[:11]), ("a bucket where a page is expected", bucket),
                   ("leaf arrays of different lengths", seal(2, {**leaf_header, "starts": [12, 20]})),
                   ("leaf ref past its objects", seal(2, {**leaf_header, "refs": [0, 0, 2]})),
                   ("unknown page kind", seal(2, {**leaf_header, "kind": "twig"})),
                   ("inner page at level 0", seal(2, {**node_header, "level": 0})),
                   ("unknown field", seal(2, {**leaf_header, "extra": 1})),
                   ("non-canonical header", good[:12] + b"\xb9\x00\x0a" + good[13:])):
    fmt.append({"name": f"page refused: {name}", "op": "decode-page", "input": {"hex": data.hex()},
                "error": "E_CBOR_NONCANONICAL" if name == "non-canonical header" else "E_FIELD"})
for name, data in (("bucket whose items do not cover the payload", bucket + b"\x00"),
                   ("bucket lengths differ from deltas", seal(3, {**header, "lengths": [3, 1]}, b"".join(i[2] for i in items))),
                   ("a page where a bucket is expected", good)):
    fmt.append({"name": f"bucket refused: {name}", "op": "decode-bucket", "input": {"hex": data.hex()}, "error": "E_FIELD"})
# ---------------------------------------------------------------- Vamana graph (spec 0013)
# An independent implementation of buildVamana (engine/src/indexes/graph/vamana.ts): f32 dot products in
# the kernel's order, mulberry32, the
# seeded insertion order into an empty graph, the medoid, greedy search with a sorted candidate list, RobustPrune with
# ties by id, back-links with a 1.3x slack, and the final prune: the same graph, edge for edge.
def mulberry32(seed):
    state = [seed & 0xFFFFFFFF]
    def imul(a, b):
        r = (a * b) & 0xFFFFFFFF
        return r - 0x100000000 if r & 0x80000000 else r
    def u32(x):
        return x & 0xFFFFFFFF
    def s32(x):
        x &= 0xFFFFFFFF
        return x - 0x100000000 if x & 0x80000000 else x
    def nxt():
        state[0] = s32(state[0] + 0x6D2B79F5)
        a = state[0]
        t = imul(u32(a) ^ (u32(a) >> 15), 1 | u32(a))
        t = s32(s32(t + imul(u32(t) ^ (u32(t) >> 7), 61 | u32(t))) ^ t)
        return (u32(t) ^ (u32(t) >> 14)) / 4294967296
    return nxt

def vamana_build(rows, degree, build_list, alpha, seed):
    import math
    n, dim = len(rows), len(rows[0])
    def dist(a, b):
        # f32 arithmetic (spec 0013 §1): rows padded with zeros to a multiple of 8, component i multiplied
        # and added into partial sum i mod 8, joined as s_j = p_j + p_j+4, then (s0 + s1) + (s2 + s3).
        p = [0.0] * 8
        for i in range(dim):
            p[i % 8] = f32(p[i % 8] + f32(rows[a][i] * rows[b][i]))
        s = [f32(p[j] + p[j + 4]) for j in range(4)]
        return 1 - f32(f32(s[0] + s[1]) + f32(s[2] + s[3]))
    width = math.ceil(degree * 1.3)
    out = [[] for _ in range(n)]
    rng = mulberry32(seed)
    centroid = [0.0] * dim
    for i in range(n):
        for d in range(dim):
            centroid[d] += rows[i][d]
    best, best_d = 0, math.inf
    for i in range(n):
        d2 = 0.0
        for d in range(dim):
            x = rows[i][d] - centroid[d] / n
            d2 += x * x
        if d2 < best_d:
            best_d, best = d2, i
    entry = best
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(rng() * (i + 1))
        order[i], order[j] = order[j], order[i]
    def greedy(target, size):
        lst = [(dist(target, entry), entry, False)]
        seen = {entry}
        expanded = []
        while True:
            at = next((k for k, c in enumerate(lst) if not c[2]), -1)
            if at < 0:
                return expanded
            d0, node, _ = lst[at]
            lst[at] = (d0, node, True)
            expanded.append(node)
            for nb in out[node]:
                if nb in seen:
                    continue
                seen.add(nb)
                d = dist(target, nb)
                if len(lst) == size and (d > lst[-1][0] or (d == lst[-1][0] and nb > lst[-1][1])):
                    continue
                if len(lst) == size:
                    lst.pop()
                k = len(lst)
                while k > 0 and (lst[k - 1][0] > d or (lst[k - 1][0] == d and lst[k - 1][1] > nb)):
                    k -= 1
                lst.insert(k, (d, nb, False))
    def prune(p, candidates, a):
        pool, seen = [], set()
        for c in candidates:
            if c != p and c not in seen:
                seen.add(c)
                pool.append((dist(p, c), c))
        pool.sort()
        alive = [True] * len(pool)
        kept = []
        for i in range(len(pool)):
            if len(kept) >= degree:
                break
            if not alive[i]:
                continue
            star = pool[i][1]
            kept.append(star)
            for j in range(i + 1, len(pool)):
                if alive[j] and a * dist(star, pool[j][1]) <= pool[j][0]:
                    alive[j] = False
        return kept
    # One pass over an empty graph, in the seeded order (DiskANN's code, not the paper's two passes).
    for p in order:
        expanded = greedy(p, build_list)
        out[p] = prune(p, expanded + out[p], alpha)
        for j in list(out[p]):
            if p in out[j]:
                continue
            if len(out[j]) < width:
                out[j] = out[j] + [p]
            else:
                out[j] = prune(j, out[j] + [p], alpha)
    final = [prune(i, out[i], alpha) if len(out[i]) > degree else out[i] for i in range(n)]
    return entry, final

def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]

graph_rng = mulberry32(99)
graph_rows = [[f32(graph_rng() - 0.5) for _ in range(6)] for _ in range(120)]
for R, L, a, seed in ((8, 16, 1.2, 7), (6, 12, 1.0, 3)):
    entry, neighbors = vamana_build(graph_rows, R, L, a, seed)
    fmt.append({"name": f"a Vamana graph of 120 x 6 vectors, degree {R}, build list {L}, alpha {a}, seed {seed}",
                "op": "vamana-build", "input": {"dim": 6, "rows": graph_rows, "degree": R, "buildList": L, "alpha": a, "seed": seed},
                "output": {"medoid": entry, "neighbors": neighbors}})


# The build over partitions (spec 0013 §2.1), independently: unit rows (§1), spherical k-means with
# k-means++ seeding, each row in the shards of its 2 nearest centroids, a Vamana graph per shard at degree
# ceil(2R/3), the shards' lists joined in turn up to R, the medoid of all unit rows.
def kernel_dot(a, b):
    p = [0.0] * 8
    for i in range(len(a)):
        p[i % 8] = f32(p[i % 8] + f32(a[i] * b[i]))
    s = [f32(p[j] + p[j + 4]) for j in range(4)]
    return f32(f32(s[0] + s[1]) + f32(s[2] + s[3]))

def to_unit(row):
    sq = 0.0
    for x in row:
        sq = f32(sq + f32(x * x))
    norm = f32(math.sqrt(sq))
    return [f32(x / norm) for x in row]

def largest(scores, k, is_open=lambda s: True):
    out = []
    for _ in range(k):
        best = -1
        for s in range(len(scores)):
            if s not in out and is_open(s) and (best < 0 or scores[s] > scores[best]):
                best = s
        if best < 0:
            for s in range(len(scores)):
                if s not in out and (best < 0 or scores[s] > scores[best]):
                    best = s
        out.append(best)
    return out

def spherical_kmeans(rows, k, seed):
    n, dim = len(rows), len(rows[0])
    nxt = mulberry32((seed ^ 0x2545F491) & 0xFFFFFFFF)
    best = [math.inf] * n
    cents = []
    pick = math.floor(nxt() * n)
    for c in range(k):
        cents.append(list(rows[pick]))
        if c == k - 1:
            break
        for i in range(n):
            best[i] = min(best[i], max(0.0, 1 - kernel_dot(rows[pick], rows[i])))
        total = 0.0
        for i in range(n):
            total += best[i]
        target = nxt() * total
        pick = n - 1
        for i in range(n):
            target -= best[i]
            if target < 0:
                pick = i
                break
    for _ in range(12):
        sums = [[0.0] * dim for _ in range(k)]
        for i in range(n):
            c = largest([kernel_dot(rows[i], cents[s]) for s in range(k)], 1)[0]
            for d in range(dim):
                sums[c][d] += rows[i][d]
        for c in range(k):
            norm = 0.0
            for d in range(dim):
                norm += sums[c][d] * sums[c][d]
            if norm == 0:
                continue
            inv = 1 / math.sqrt(norm)
            cents[c] = [f32(sums[c][d] * inv) for d in range(dim)]
    return cents

def partitioned_build(rows, degree, build_list, alpha, seed, shard_nodes):
    n, dim = len(rows), len(rows[0])
    unit = [to_unit(r) for r in rows]
    shards = min(max(1, math.ceil(2 * n / shard_nodes)), n)
    overlap = min(2, shards)
    capacity = math.ceil(1.25 * overlap * n / shards)
    every = max(1, n // 65536)
    sample = unit[::every]
    cents = spherical_kmeans(sample, shards, seed)
    mean = [0.0] * dim
    for u in unit:
        for d in range(dim):
            mean[d] += u[d]
    mean = [m / n for m in mean]
    medoid, best = 0, math.inf
    homes, ids = [], [[] for _ in range(shards)]
    for i, u in enumerate(unit):
        d2 = 0.0
        for d in range(dim):
            x = u[d] - mean[d]
            d2 += x * x
        if d2 < best:
            best, medoid = d2, i
        home = largest([kernel_dot(u, cents[s]) for s in range(shards)], overlap, lambda s: len(ids[s]) < capacity)
        homes.append(home)
        for s in home:
            ids[s].append(i)
    sub = max(2, math.ceil(2 * degree / 3)) if overlap > 1 else degree
    lists = []
    for s in range(shards):
        _, out = vamana_build([unit[i] for i in ids[s]], sub, build_list, alpha, seed) if ids[s] else (0, [])
        lists.append([[ids[s][j] for j in o] for o in out])
    cursor = [0] * shards
    neighbors = []
    for i in range(n):
        parts = []
        for s in homes[i]:
            parts.append(lists[s][cursor[s]])
            cursor[s] += 1
        row, taken = [], set()
        for e in range(sub):
            for part in parts:
                if len(row) == degree:
                    break
                if e < len(part) and part[e] not in taken:
                    taken.add(part[e])
                    row.append(part[e])
        neighbors.append(row)
    return medoid, [len(x) for x in ids], neighbors

part_rng = mulberry32(5)
part_centres = [[part_rng() - 0.5 for _ in range(6)] for _ in range(5)]
part_rows = [[f32(3 * (part_centres[i % 5][d] + 0.15 * (part_rng() - 0.5))) for d in range(6)] for i in range(300)]
# Skewed: 4 rows of 5 in one cluster, so shards fill to their capacity (1.25 of their share) and rows
# go on to the next nearest shard with room.
skew_rows = [[f32(3 * (part_centres[0 if i % 5 else 1 + (i // 5) % 4][d] + 0.15 * (part_rng() - 0.5))) for d in range(6)] for i in range(300)]
for name, rows_, R, L, a, seed, nodes in (("300 x 6 vectors built over 3 shards (shard nodes 200), degree 8, build list 16, alpha 1.2, seed 7", part_rows, 8, 16, 1.2, 7, 200),
                                          ("300 x 6 vectors, 4 in 5 in one cluster, over 5 shards (shard nodes 120) filled to capacity, degree 6, build list 12, alpha 1.0, seed 3", skew_rows, 6, 12, 1.0, 3, 120)):
    medoid, sizes, neighbors = partitioned_build(rows_, R, L, a, seed, nodes)
    fmt.append({"name": f"a Vamana graph of {name}",
                "op": "vamana-partitioned", "input": {"dim": 6, "rows": rows_, "degree": R, "buildList": L, "alpha": a, "seed": seed, "shardNodes": nodes},
                "output": {"medoid": medoid, "shards": sizes, "neighbors": neighbors}})


def sum_in_order(a, b):
    acc = 0.0
    for x, y in zip(a, b):
        acc += x * y
    return acc

# ---------------------------------------------------------------- product quantization (spec 0010 §2)
def pq_train(rows, d, M, seed, train_rows, iterations):
    """Codebooks as 0010 §2 trains them: Python floats are float64, each centroid rounded to float32."""
    n = len(rows)
    order = list(range(n))
    if n > train_rows:
        rng = mulberry32(seed)
        for i in range(train_rows):
            j = i + int(rng() * (n - i))
            order[i], order[j] = order[j], order[i]
        order = order[:train_rows]
    bounds = [m * d // M for m in range(M + 1)]
    books = []
    for m in range(M):
        lo, hi = bounds[m], bounds[m + 1]
        cents = [list(rows[order[c % len(order)]][lo:hi]) for c in range(256)]
        for _ in range(iterations):
            sums = [[0.0] * (hi - lo) for _ in range(256)]
            sizes = [0] * 256
            for r in order:
                c = pq_nearest(cents, rows[r][lo:hi])
                sizes[c] += 1
                for i, x in enumerate(rows[r][lo:hi]):
                    sums[c][i] += x
            cents = [[f32(x / sizes[c]) for x in sums[c]] if sizes[c] else cents[c] for c in range(256)]
        books.append(cents)
    return bounds, books

def pq_nearest(cents, sub):
    best, best_d = 0, float("inf")
    for c, cent in enumerate(cents):
        dd = 0.0
        for x, y in zip(sub, cent):
            dd += (x - y) * (x - y)
        if dd < best_d:
            best, best_d = c, dd
    return best

pq_rng = mulberry32(2010)
pq_rows = [[f32(pq_rng() - 0.5) for _ in range(16)] for _ in range(300)]
pq_query = [f32(pq_rng() - 0.5) for _ in range(16)]
bounds, books = pq_train(pq_rows, 16, 5, 3, 200, 4)
codes = [[pq_nearest(books[m], row[bounds[m]:bounds[m + 1]]) for m in range(5)] for row in pq_rows]
table = [[f32(sum_in_order(pq_query[bounds[m]:bounds[m + 1]], cent)) for cent in books[m]] for m in range(5)]
def f32_fold(values):
    acc = 0.0
    for v in values:
        acc = f32(acc + v)
    return acc
dots = [f32_fold(table[m][code[m]] for m in range(5)) for code in codes[:20]]
fmt.append({"name": "product quantization of 300 x 16 rows, 5 subspaces, seed 3, 200 training rows, 4 rounds",
            "op": "pq", "input": {"dim": 16, "subspaces": 5, "seed": 3, "trainRows": 200, "iterations": 4,
                                  "rows": pq_rows, "query": pq_query},
            "output": {"centroids": [x for cents in books for cent in cents for x in cent],
                       "codes": [c for code in codes for c in code], "table": [x for t in table for x in t],
                       "dots": dots}})

write("format.json", "0007", "Object envelope, buckets, index pages and page boundaries", fmt)
