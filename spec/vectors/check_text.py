#!/usr/bin/python3
"""Independent check of spec/vectors/text/text.json (spec 0015) with the Python standard library only.

Analyzer cases: NFKC, lowercasing, the word rule (letters, marks, numbers; apostrophes joining),
stop words and the length cap are recomputed; Porter stemming is not (no stemmer here), but a word
that is not all a-z must be its own term. Queries: every hit list is recomputed from the corpus'
token lists and the parsed queries alone: N, dl, df, avgdl, phrase positions, exclusions, BM25 in
float64 in the spec's operation order, and the tie order. Scores must agree within 1e-12 (relative).
Prints one line per failure and a closing "check_text: N passed, N failed" line; exits 1 on any failure.
"""
import json
import math
import os
import sys
import unicodedata

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "text", "text.json"), encoding="utf-8") as f:
    doc = json.load(f)

STOP = set(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
MAX_TOKEN_CHARS = 64
APOSTROPHES = "'\u2019"
passed = failed = 0


def report(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {why}")


def is_word_char(c):
    return unicodedata.category(c)[0] in "LMN"


def words_of(text):
    """Maximal runs of L/M/N characters, an apostrophe between two of them joining the run."""
    s = unicodedata.normalize("NFKC", text).lower()
    out, i, n = [], 0, len(s)
    while i < n:
        if not is_word_char(s[i]):
            i += 1
            continue
        j = i
        while j < n:
            if is_word_char(s[j]):
                j += 1
            elif s[j] in APOSTROPHES and j + 1 < n and is_word_char(s[j + 1]) and j > i:
                j += 1
            else:
                break
        word = "".join(c for c in s[i:j] if c not in APOSTROPHES)
        out.append(word)
        i = j
    return out


for case in doc["analyze"]:
    name = f"analyze: {case['name']}"
    words = words_of(case["text"])
    got = [w for w, _, _ in case["words"]]
    report(got == words, name, f"words {words!r}, vector says {got!r}")
    ok = True
    for word, position, term in case["words"]:
        dropped = len(word) > MAX_TOKEN_CHARS or word in STOP
        if dropped != (term is None):
            ok = False
        if term is not None and not (word.isascii() and word.isalpha()) and term != word:
            ok = False
    positions = [p for _, p, _ in case["words"]]
    report(ok and positions == list(range(len(positions))), name + " (terms, positions)", repr(case["words"]))

# The corpus: per document, term -> (positions, fields), and its length.
docs = []
for d in doc["corpus"]["docs"]:
    terms = {}
    for term, position, field in d["tokens"]:
        entry = terms.setdefault(term, ([], set()))
        entry[0].append(position)
        entry[1].add(field)
    if d["tokens"]:
        docs.append({"track": d["track"], "tick": int(d["tick"]), "duration": d["duration"], "terms": terms, "dl": len(d["tokens"])})

N = len(docs)
avgdl = sum(d["dl"] for d in docs) / N


def holds(d, phrase):
    first = phrase["terms"][0]["term"]
    if first not in d["terms"]:
        return False
    for start in d["terms"][first][0]:
        if all(t["term"] in d["terms"] and start + t["offset"] in d["terms"][t["term"]][0] for t in phrase["terms"]):
            return True
    return False


def code_points(s):
    return [ord(c) for c in s]


for q in doc["queries"]:
    name = f"query {q['query']!r}"
    k1, b = q.get("k1", 1.2), q.get("b", 0.75)
    parsed = q["parsed"]
    df = {t: sum(1 for d in docs if t in d["terms"]) for t in parsed["scored"]}
    hits = []
    for d in docs:
        if not all(holds(d, p) for p in parsed["phrases"]) or any(holds(d, p) for p in parsed["excluded"]):
            continue
        if not parsed["phrases"] and not any(t in d["terms"] for t in parsed["terms"]):
            continue
        score, matches = 0.0, []
        for t in sorted(parsed["scored"], key=code_points):
            if t not in d["terms"]:
                continue
            tf = len(d["terms"][t][0])
            idf = math.log(1 + (N - df[t] + 0.5) / (df[t] + 0.5))
            score += idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * (d["dl"] / avgdl))))
            matches.append({"term": t, "fields": sorted(d["terms"][t][1], key=code_points)})
        hits.append({"track": d["track"], "tick": d["tick"], "duration": d["duration"], "score": score, "matches": matches})
    hits.sort(key=lambda h: (-h["score"], code_points(h["track"]), h["tick"]))
    hits = hits[: q["k"]]
    want = q["hits"]
    same = len(hits) == len(want) and all(
        h["track"] == w["track"]
        and h["tick"] == int(w["tick"])
        and h["matches"] == w["matches"]
        and abs(h["score"] - w["score"]) <= 1e-12 * max(1.0, abs(w["score"]))
        for h, w in zip(hits, want)
    )
    report(same, name, f"python ranks {[(h['track'], h['tick'], h['score']) for h in hits]}")

print(f"check_text: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
