#!/usr/bin/env python3
"""Import cycles between the top-level modules of each Rust crate of the workspace (issue #15).

For every crate (a directory with a Cargo.toml and a src/ folder), each file under src/ belongs to
the top-level module named by its first path component (src/node/routes.rs and src/node.rs are
both `node`; src/lib.rs and src/main.rs are the crate root; src/bin/ is left out: those files are
crates of their own; so are unit-test files, src/**/tests.rs and src/**/tests/: test code may use
any module's test support, which is not layering). An edge A -> B is a `crate::B` path (in a `use` or inline, braces
expanded) or a `super::` chain that climbs to the crate root and names B, written in a file of A.
Comments and string literals are ignored. Any cycle between two or more modules fails the check,
printed as `crate: a -> b -> a (a/x.rs: crate::b, b/y.rs: crate::a)`.

Usage: modcycles.py [--allow CRATE:MOD,MOD,...=REASON]... ROOT
Exit status 1 when a cycle is found that no --allow names (an allowed cycle is listed, not fatal),
or when an --allow names a cycle that is no longer there (drop it, so the list stays true).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text: str) -> str:
    """Remove // and /* */ comments, string and char literals (keeping line breaks)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text[i] == "\n":
                    out.append("\n")
                i += 1
            i += 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 4]):
            i += len(re.match(r"'(\\.[^']*|[^\\'])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_paths(text: str, start: int) -> list[str]:
    """The paths of a `use`-like tree starting at text[start:] (after `crate::` or `super::…`):
    `a::{b, c::d}` gives ['a', ...] — only the first segment of each branch matters here."""
    rest = text[start:]
    m = re.match(r"\s*(" + IDENT + r"|\{)", rest)
    if not m:
        return []
    if m.group(1) != "{":
        return [m.group(1)]
    depth, j, items, cur = 0, m.start(1), [], ""
    for ch in rest[j:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ",":
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    names = []
    for it in items:
        mm = re.match(r"\s*(" + IDENT + ")", it)
        if mm and mm.group(1) != "self":
            names.append(mm.group(1))
    return names


def module_of(rel: Path) -> tuple[str | None, list[str]]:
    """(top-level module, module path) of a file relative to src/; None for the crate root."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts in (["lib"], ["main"]):
        return None, []
    return parts[0], parts


def edges_of_crate(src: Path) -> dict[str, dict[str, list[str]]]:
    """{module: {target module: [evidence, ...]}} for one crate's src/."""
    modules = {module_of(p.relative_to(src))[0] for p in src.rglob("*.rs") if p.relative_to(src).parts[0] != "bin"}
    modules.discard(None)
    edges: dict[str, dict[str, list[str]]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        if rel.parts[0] == "bin" or rel.stem == "tests" or "tests" in rel.parts[:-1]:
            continue
        top, modpath = module_of(rel)
        if top is None:
            continue
        text = strip_comments_and_strings(path.read_text(encoding="utf-8", errors="replace"))
        for m in re.finditer(r"(?<![A-Za-z0-9_$])crate\s*::", text):
            for target in expand_paths(text, m.end()):
                if target in modules and target != top:
                    edges.setdefault(top, {}).setdefault(target, []).append(f"{rel}: crate::{target}")
        for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:super\s*::\s*)+)", text):
            ups = m.group(1).count("super")
            # Inline `mod tests` blocks add a level; a climb that reaches the root from a nested
            # module of this file names a module only if it goes past the file's own path.
            inner = text[: m.start()].count("mod tests")  # a rough count of inline test modules
            depth = len(modpath) + (1 if inner else 0)
            if ups < depth:
                continue
            for target in expand_paths(text, m.end()):
                if target in modules and target != top:
                    edges.setdefault(top, {}).setdefault(target, []).append(f"{rel}: {'super::' * ups}{target}")
    return edges


def cycles(edges: dict[str, dict[str, list[str]]]) -> list[tuple[list[str], list[str]]]:
    """The strongly connected components with two or more modules (Tarjan), each as (its
    members, one cycle through them: a shortest one from the smallest name)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []
    counter = [0]
    nodes = sorted(set(edges) | {t for ts in edges.values() for t in ts})

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
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
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    out = []
    for comp in sorted(comps):
        members = set(comp)
        start = comp[0]
        # BFS back to start inside the component.
        prev = {start: None}
        queue = [start]
        found = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(edges.get(v, {})):
                if w not in members:
                    continue
                if w == start:
                    found = v
                    break
                if w not in prev:
                    prev[w] = v
                    queue.append(w)
        path = [start]
        v = found
        chain = []
        while v is not None and v != start:
            chain.append(v)
            v = prev[v]
        path += list(reversed(chain)) + [start]
        out.append((comp, path))
    return out


def crates(root: Path) -> list[tuple[str, Path]]:
    found = []
    for toml in sorted(root.rglob("Cargo.toml")):
        if any(p in ("target", "node_modules", ".git") or p.startswith(".") for p in toml.relative_to(root).parts[:-1]):
            continue
        src = toml.parent / "src"
        if not src.is_dir():
            continue
        m = re.search(r'^\s*name\s*=\s*"([^"]+)"', toml.read_text(encoding="utf-8"), re.M)
        if m and "[package]" in toml.read_text(encoding="utf-8"):
            found.append((m.group(1), src))
    return found


def main(argv: list[str]) -> int:
    allow: dict[tuple[str, frozenset[str]], str] = {}
    args = list(argv)
    root = None
    while args:
        a = args.pop(0)
        if a == "--allow":
            spec = args.pop(0)
            key, _, reason = spec.partition("=")
            crate, _, mods = key.partition(":")
            allow[(crate, frozenset(mods.split(",")))] = reason
        else:
            root = Path(a)
    if root is None:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    bad = 0
    used: set[tuple[str, frozenset[str]]] = set()
    for name, src in crates(root):
        edges = edges_of_crate(src)
        for comp, cyc in cycles(edges):
            steps = []
            for a, b in zip(cyc, cyc[1:]):
                steps.append(edges[a][b][0])
            line = f"{name}: {' -> '.join(cyc)} ({', '.join(steps)})"
            if len(comp) > len(cyc) - 1:
                line += f"; modules caught in cycles together: {', '.join(comp)}"
            key = next((k for k in allow if k[0] == name and set(comp) <= k[1]), None)
            reason = allow[key] if key is not None else None
            if key is not None:
                used.add(key)
                print(f"known cycle ({reason}): {line}")
            else:
                print(f"import cycle: {line}")
                bad += 1
    for key, reason in allow.items():
        if key not in used:
            print(f"stale allowance ({reason}): {key[0]}:{','.join(sorted(key[1]))} is no longer a cycle: "
                  "remove its --allow")
            bad += 1
    if bad:
        print(f"{bad} problem(s): break a cycle by moving what both sides need down, or passing it in",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
