#!/usr/bin/env python3
"""The crate's module graph: which module uses which, read from `crate::` paths and `super::`
in code (comments and doc links are ignored). Fails (exit 1) on an import cycle between modules
or on a lower layer using a higher one.

    python3 scripts/module_graph.py          # check; prints nothing but a summary when clean
    python3 scripts/module_graph.py --dot    # the graph in Graphviz dot
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
# Bottom to top: a module may use modules of its own layer or of layers listed before it.
LAYERS = ["model", "rules", "store", "mail", "steps", "output", "cli"]


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    return "::".join(parts) or "lib"


def code_lines(text: str):
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        yield line.split("//")[0] if "\"" not in line else line


def main() -> int:
    files = [p for p in SRC.rglob("*.rs") if p.name not in ("main.rs", "lib.rs")]
    modules = {module_of(p): p for p in files}
    edges = {m: set() for m in modules}
    ref = re.compile(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)")
    sup = re.compile(r"\bsuper::(\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)")
    for m, p in modules.items():
        in_tests = False
        for line in code_lines(p.read_text()):
            if line.strip().startswith("#[cfg(test)]"):
                in_tests = True  # unit tests may use anything
            if in_tests:
                continue
            targets = []
            for r in ref.findall(line):
                parts = r.split("::")
                while parts and "::".join(parts) not in modules:
                    parts.pop()
                if parts:
                    targets.append("::".join(parts))
            parent = m.rsplit("::", 1)[0] if "::" in m else ""
            for s in sup.findall(line):
                names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s)
                for name in names or [""]:
                    cand = f"{parent}::{name}" if parent else name
                    targets.append(cand if cand in modules else (parent or "lib"))
            # Children named by a relative path (`tickets::run`, `use self::x`).
            for name in re.findall(r"(?<![:A-Za-z0-9_])(?:self::)?([a-z_][a-z0-9_]*)::", line):
                if f"{m}::{name}" in modules and m != "lib":
                    targets.append(f"{m}::{name}")
            for t in targets:
                if t != m:
                    edges[m].add(t)
    if "--dot" in sys.argv:
        print("digraph mesa {")
        for m in sorted(edges):
            for t in sorted(edges[m]):
                print(f'  "{m}" -> "{t}";')
        print("}")
        return 0
    problems = []
    layer = lambda m: LAYERS.index(m.split("::")[0]) if m.split("::")[0] in LAYERS else -1
    for m in sorted(edges):
        for t in sorted(edges[m]):
            if layer(m) < 0:
                problems.append(f"{m}: not in a layer folder")
            elif layer(t) > layer(m):
                problems.append(f"layer: {m} ({LAYERS[layer(m)]}) uses {t} ({LAYERS[layer(t)]})")
    # Cycles: Tarjan's strongly connected components.
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for c in sccs:
        problems.append("cycle: " + " <-> ".join(c))
    for p in problems:
        print(p)
    n_edges = sum(len(e) for e in edges.values())
    print(f"{len(modules)} modules, {n_edges} edges, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
