#!/usr/bin/python3
"""Writes spec/vectors/text/hybrid.json (spec 0015 §10): reciprocal rank fusion of text and vector hits
into moments, computed here from the spec's rules alone (independently of the engine).
Run from anywhere: /usr/bin/python3 spec/vectors/generate_hybrid.py
"""
import json
import os
from fractions import Fraction

here = os.path.dirname(os.path.abspath(__file__))
# DREAMDB_VECTORS_OUT: write elsewhere (the tests compare a fresh run with the committed files).
out = os.environ.get("DREAMDB_VECTORS_OUT", here)


def fuse(text_hits, vector_hits, rrf_k, w_text, w_vector):
    moments = []
    for rank, h in enumerate(text_hits, 1):
        moments.append({"track": h["track"], "tick": h["tick"], "duration": h["duration"],
                        "score": w_text / (rrf_k + rank), "text_rank": rank, "vector_rank": None,
                        "vector_tick": None})
    for rank, h in enumerate(vector_hits, 1):
        home = None
        for m in moments:
            if m["text_rank"] is not None and m["vector_rank"] is None and \
                    m["tick"] <= h["tick"] < m["tick"] + max(m["duration"], 1):
                home = m
                break
        if home is not None:
            home["vector_rank"] = rank
            home["vector_tick"] = h["tick"]
            home["score"] += w_vector / (rrf_k + rank)
        else:
            moments.append({"track": h["track"], "tick": h["tick"], "duration": h["duration"],
                            "score": w_vector / (rrf_k + rank), "text_rank": None, "vector_rank": rank,
                            "vector_tick": h["tick"]})
    # Highest score first; ties to the earlier tick, then the track name (code point order).
    moments.sort(key=lambda m: (-m["score"], m["tick"], m["track"].encode()))
    return moments


S = 1_000_000_000
cases = [
    ("a frame inside a matching cue scores by both",
     [("captions", 11 * S, 4 * S), ("captions", 16 * S, 3 * S), ("notes", 12 * S, 6 * S)],
     [("frames", 13 * S, S), ("frames", 14 * S, S), ("frames", 12 * S, S), ("frames", 15 * S, S)], 60, 1, 1),
    ("weights and a small constant",
     [("captions", 5 * S, 2 * S), ("captions", 30 * S, 0)],
     [("frames", 30 * S, S), ("frames", 6 * S, S), ("frames", 40 * S, S)], 10, 2, 1),
    ("an instant (duration 0) holds only its own tick; ties go to the earlier tick",
     [("notes", 7 * S, 0), ("notes", 9 * S, 0)],
     [("frames", 7 * S + 1, S), ("frames", 9 * S, S)], 60, 1, 1),
    ("text only", [("captions", 1 * S, S), ("notes", 1 * S, S)], [], 60, 1, 1),
    ("vector only, weight 0 for text", [], [("frames", 3 * S, S), ("frames", 1 * S, S)], 60, 0, 1),
]
vectors = []
for name, text, vec, rrf_k, wt, wv in cases:
    text_hits = [{"track": t, "tick": k, "duration": d} for t, k, d in text]
    vector_hits = [{"track": t, "tick": k, "duration": d} for t, k, d in vec]
    fused = fuse(text_hits, vector_hits, rrf_k, wt, wv)
    vectors.append({
        "name": name, "op": "rrf-fuse",
        "input": {"rrfK": rrf_k, "weights": {"text": wt, "vector": wv},
                  "text": [{**h, "tick": str(h["tick"]), "duration": str(h["duration"])} for h in text_hits],
                  "vector": [{**h, "tick": str(h["tick"]), "duration": str(h["duration"])} for h in vector_hits]},
        "output": [{"track": m["track"], "tick": str(m["tick"]), "score": m["score"],
                    "text_rank": m["text_rank"], "vector_rank": m["vector_rank"],
                    "vector_tick": None if m["vector_tick"] is None else str(m["vector_tick"])} for m in fused],
    })

doc = {"spec": "0015", "title": "hybrid queries: reciprocal rank fusion of text and vector hits into moments",
       "vectors": vectors}
os.makedirs(os.path.join(out, "text"), exist_ok=True)
with open(os.path.join(out, "text", "hybrid.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(f"hybrid.json: {len(vectors)} vectors")
