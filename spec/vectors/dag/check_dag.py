#!/usr/bin/env python3
"""Check spec/vectors/dag/dag.json independently of the engine (spec 0008).

Replays each scenario on a model of the manifest DAG: nodes with parents and items (tick -> label),
refs, merge bases as best common ancestors (several after a criss-cross, merged recursively into a
virtual base), three-way item merges, fast-forwards, octopus merges and the refusal of incompatible
spatial indexes; and asserts every expectation the file states. Prints "ok N scenarios" or fails.
"""
import json
import sys

def ancestors(nodes, start):
    seen, stack = set(), [start]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        stack.extend(nodes[n]["parents"])
    return seen

def merge_bases(nodes, a, b):
    common = ancestors(nodes, a) & ancestors(nodes, b)
    dominated = set()
    for c in common:
        for p in nodes[c]["parents"]:
            dominated |= ancestors(nodes, p)
    return sorted(common - dominated)

class Conflict(Exception):
    def __init__(self, conflicts):
        self.conflicts = conflicts

class Lineage(Exception):
    pass

def merge_items(base, ours, theirs):
    out, conflicts = {}, []
    for tick in sorted(set(ours) | set(theirs) | set(base), key=int):
        b, o, t = base.get(tick), ours.get(tick), theirs.get(tick)
        if t == b or o == t:
            value = o
        elif o == b:
            value = t
        else:
            reason = ("removed on one side and changed on the other" if o is None or t is None
                      else "changed differently on both sides" if b is not None else "added differently on both sides")
            conflicts.append({"tick": int(tick), "reason": reason, "base": b, "ours": o, "theirs": t})
            continue
        if value is not None:
            out[tick] = value
    if conflicts:
        raise Conflict(conflicts)
    return out

def merge_nodes(nodes, base, ours, theirs):
    o, t = nodes[ours], nodes[theirs]
    if o["spatial"] is not None and t["spatial"] is not None and o["spatial"] != t["spatial"]:
        raise Lineage()
    b = nodes[base]["items"] if base is not None else {}
    return merge_items(b, o["items"], t["items"]), o["spatial"] if o["spatial"] is not None else t["spatial"]

def base_of(nodes, a, b, counter):
    bases = merge_bases(nodes, a, b)
    if not bases:
        return None, bases
    virtual = bases[0]
    for nxt in bases[1:]:
        inner, _ = base_of(nodes, virtual, nxt, counter)
        items, spatial = merge_nodes(nodes, inner, virtual, nxt)
        counter[0] += 1
        name = f"virtual#{counter[0]}"
        nodes[name] = {"parents": [virtual, nxt], "items": items, "spatial": spatial}
        virtual = name
    return virtual, bases

def run(scenario):
    nodes, refs, counter = {}, {}, [0]
    def version(v):
        return refs[v] if v in refs else v
    for step in scenario["steps"]:
        op = step["op"]
        if op == "commit":
            parent = refs.get(step["ref"])
            items = dict(nodes[parent]["items"]) if parent else {}
            for tick in step.get("delete", []):
                items.pop(tick, None)
            items.update(step.get("items", {}))
            spatial = nodes[parent]["spatial"] if parent else None
            if "vectors" in step and spatial is None:
                spatial = json.dumps(step.get("spatial", "default"), sort_keys=True)
            nodes[step["name"]] = {"parents": [parent] if parent else [], "items": items, "spatial": spatial}
            refs[step["ref"]] = step["name"]
        elif op == "branch":
            refs[step["ref"]] = version(step["at"])
        elif op == "merge":
            expect = step["expect"]
            ours = refs.get(step["into"])
            contained = ancestors(nodes, ours) if ours else set()
            theirs = []
            for v in step["from"]:
                n = version(v)
                if n not in contained and n not in theirs:
                    theirs.append(n)
            theirs = [t for t in theirs if not any(o != t and t in ancestors(nodes, o) for o in theirs)]
            try:
                if not theirs:
                    outcome, head = "up-to-date", ours
                elif len(theirs) == 1 and (ours is None or ours in ancestors(nodes, theirs[0])):
                    outcome, head = "fast-forward", theirs[0]
                else:
                    outcome, current, bases, result = "merge", ours, [], None
                    for i, t in enumerate(theirs):
                        base, found = base_of(nodes, current, t, counter)
                        bases.append(found)
                        items, spatial = merge_nodes(nodes, base, current, t)
                        counter[0] += 1
                        name = step.get("name") if i == len(theirs) - 1 and step.get("name") else f"step#{counter[0]}"
                        parents = [current, t] if i < len(theirs) - 1 else [ours] + theirs
                        nodes[name] = {"parents": parents, "items": items, "spatial": spatial}
                        current = name
                    head = current
                    assert expect.get("bases", bases) == bases, (scenario["name"], step, bases)
                    assert expect.get("parents", nodes[head]["parents"]) == nodes[head]["parents"], (scenario["name"], nodes[head])
                refs[step["into"]] = head
                assert "conflicts" not in expect and "error" not in expect, (scenario["name"], "expected a refusal")
                assert expect["outcome"] == outcome, (scenario["name"], outcome)
                if "head" in expect:
                    assert head == expect["head"], (scenario["name"], head)
                if "items" in expect:
                    assert nodes[head]["items"] == expect["items"], (scenario["name"], nodes[head]["items"])
                if step.get("name") and outcome != "merge":
                    nodes[step["name"]] = nodes[head]
            except Conflict as c:
                assert c.conflicts == expect.get("conflicts"), (scenario["name"], c.conflicts)
                assert refs.get(step["into"]) == expect.get("head"), scenario["name"]
            except Lineage:
                assert expect.get("error") == "E_LINEAGE", scenario["name"]
                assert refs.get(step["into"]) == expect.get("head"), scenario["name"]

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else __file__.replace("check_dag.py", "dag.json")
    with open(path) as f:
        data = json.load(f)
    for scenario in data["scenarios"]:
        run(scenario)
    print(f"ok {len(data['scenarios'])} scenarios")

if __name__ == "__main__":
    main()
