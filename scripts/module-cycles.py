#!/usr/bin/env python3
"""Import cycles between the modules of src/, at every level (one node per
file module: crate::store, crate::store::model, ...). Exits 1 and prints
each cycle, with the lines that make its arrows, when there is one.
`make lint` runs it. Cycles between top-level modules (crate::metrics and
crate::store, each file of a module counted as the module) fail it too.

Nodes: one per source file module (crate, crate::store, crate::store::model...).
Edges: `use` trees (crate::, super::, self::, child-module-relative, aliases
introduced by earlier `use`s) with nested groups expanded, plus inline paths
in code (crate::a::b::f(), super::x, alias::y). Ignored: comments, string
literals, `mod` declarations, and any item carrying #[cfg(test)] (mod blocks,
`mod x;` declarations, fns, uses).
"""
import os, re, sys
from collections import defaultdict

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
SRC = os.path.join(ROOT, "src")


# ---------------------------------------------------------------- lexing
def strip(text):
    """Blank comments and string/char literal contents, keep newlines/offsets."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth += 1; j += 2
                elif text.startswith("*/", j):
                    depth -= 1; j += 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif re.match(r'(?:b|c)?r(#*)"', text[i:i + 260]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'(?:b|c)?r(#*)"', text[i:])
            hashes = m.group(1)
            start = i + m.end()
            end = text.find('"' + hashes, start)
            end = n if end < 0 else end
            blank(start, end)
            i = end + 1 + len(hashes)
        elif c == '"' or (c in "bc" and text.startswith('"', i + 1) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (1 if c == '"' else 2)
            start = j
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(start, j)
            i = j + 1
        elif c == "'":
            # char literal vs lifetime
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 16])
            if m:
                blank(i + 1, i + m.end() - 1)
                i += m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def match_brace(s, open_idx):
    depth = 0
    for k in range(open_idx, len(s)):
        if s[k] == "{":
            depth += 1
        elif s[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    return len(s) - 1


def drop_cfg_test(s):
    """Blank every item annotated #[cfg(test)] (block items or `;` items)."""
    out = list(s)
    for m in re.finditer(r"#\[cfg\(test\)\]", s):
        k = m.end()
        # skip further attributes/whitespace up to the item, find the first { or ;
        j = k
        while j < len(s) and s[j] not in "{;":
            j += 1
        if j >= len(s):
            continue
        end = match_brace(s, j) if s[j] == "{" else j
        for t in range(m.start(), end + 1):
            if out[t] != "\n":
                out[t] = " "
    return "".join(out)


# ---------------------------------------------------------------- module map
def file_to_mod(path):
    rel = os.path.relpath(path, SRC)
    if rel == "lib.rs":
        return ("crate",)
    if rel == "main.rs":
        return ("<bin main>",)
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return ("crate",) + tuple(parts)


files = {}
for d, _, fs in os.walk(SRC):
    for f in fs:
        if f.endswith(".rs"):
            p = os.path.join(d, f)
            files[file_to_mod(p)] = p

# only files actually declared (non-test) are modules
raw = {m: open(p, encoding="utf-8").read() for m, p in files.items()}
clean = {m: drop_cfg_test(strip(t)) for m, t in raw.items()}
declared = {("crate",), ("<bin main>",)}
changed = True
while changed:
    changed = False
    for m in list(declared):
        if m not in clean:
            continue
        base = ("crate",) if m == ("<bin main>",) else m
        if m == ("<bin main>",):
            continue
        for dm in re.finditer(r"\bmod\s+([a-z_][a-z0-9_]*)\s*;", clean[m]):
            child = base + (dm.group(1),)
            if child in files and child not in declared:
                declared.add(child); changed = True
skipped = sorted(set(files) - declared)
mods = {m for m in files if m in declared}


def children(m):
    return {c[-1] for c in mods if len(c) == len(m) + 1 and c[:-1] == m}


def resolve_target(segs):
    """Longest prefix of an absolute path that names a file module."""
    for k in range(len(segs), 0, -1):
        if tuple(segs[:k]) in mods:
            return tuple(segs[:k])
    return None


# ---------------------------------------------------------------- use trees
def split_top(s, sep=","):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur); cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def expand(tree, prefix=()):
    """yield (path tuple, alias or None)"""
    tree = tree.strip()
    if not tree:
        return
    if tree.startswith("::"):
        tree = tree[2:]
    b = tree.find("{")
    if b >= 0 and (tree.find(" as ") < 0 or tree.find(" as ") > b):
        head = tree[:b].rstrip().rstrip(":").strip()
        inner = tree[b + 1: tree.rfind("}")]
        hp = tuple(x for x in head.split("::") if x) if head else ()
        for part in split_top(inner):
            yield from expand(part, prefix + hp)
        return
    alias = None
    m = re.match(r"(.*?)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)$", tree, re.S)
    if m:
        tree, alias = m.group(1).strip(), m.group(2)
    segs = tuple(x.strip() for x in tree.split("::") if x.strip())
    if segs and segs[-1] == "self":
        segs = segs[:-1]
        path = prefix + segs
        yield path, alias or (path[-1] if path else None)
        return
    path = prefix + segs
    yield path, alias if alias else (path[-1] if path and path[-1] != "*" else None)


def absolutize(segs, cur, aliases, bin_mode):
    """Turn a path as written in module `cur` into an absolute tuple, or None."""
    if not segs:
        return None
    first = segs[0]
    base = ("crate",) if bin_mode else cur
    if first == "crate":
        return segs
    if bin_mode and first == "puente":
        return ("crate",) + segs[1:]
    if first == "self":
        return base + segs[1:]
    if first == "super":
        m, i = base, 0
        while i < len(segs) and segs[i] == "super":
            m = m[:-1]; i += 1
        return m + segs[i:]
    if first in aliases:
        return aliases[first] + segs[1:]
    if not bin_mode and first in children(cur):
        return cur + segs
    return None


USE_RE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]*);", re.S)
PATH_RE = re.compile(r"(?<![A-Za-z0-9_:])((?:[A-Za-z_][A-Za-z0-9_]*)(?:\s*::\s*(?:[A-Za-z_][A-Za-z0-9_]*))+)")

edges = defaultdict(list)  # (src, dst) -> [(line, text)]


def lineno(text, idx):
    return text.count("\n", 0, idx) + 1


for m in sorted(mods):
    s = clean[m]
    src_lines = raw[m].split("\n")
    bin_mode = m == ("<bin main>",)
    aliases = {}
    use_spans = []
    # module-level and fn-level uses; process in order so aliases accumulate
    for um in USE_RE.finditer(s):
        use_spans.append((um.start(), um.end()))
        ln = lineno(s, um.start())
        for path, alias in expand(um.group(1)):
            ab = absolutize(path, m, aliases, bin_mode)
            if ab is None:
                continue
            if alias:
                aliases[alias] = ab
            t = resolve_target(ab)
            src = m
            if t and t != src:
                edges[(src, t)].append((ln, src_lines[ln - 1].strip(), "use " + "::".join(path)))
    # blank uses, then scan inline paths
    s2 = list(s)
    for a, b in use_spans:
        for k in range(a, b):
            if s2[k] != "\n":
                s2[k] = " "
    s2 = "".join(s2)
    for pm in PATH_RE.finditer(s2):
        segs = tuple(x.strip() for x in pm.group(1).split("::"))
        ab = absolutize(segs, m, aliases, bin_mode)
        if ab is None:
            continue
        t = resolve_target(ab)
        if t and t != m:
            ln = lineno(s2, pm.start())
            edges[(m, t)].append((ln, src_lines[ln - 1].strip(), "::".join(segs)))


# ---------------------------------------------------------------- SCC
graph = defaultdict(set)
for (a, b) in edges:
    graph[a].add(b)

sys.setrecursionlimit(10000)
index, low, onstack, stack, sccs = {}, {}, set(), [], []
counter = [0]


def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); onstack.add(v)
    for w in graph[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in onstack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); onstack.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(comp)


for v in sorted(mods):
    if v not in index:
        strong(v)


def name(m):
    return "::".join(m)


def rel(m):
    return os.path.relpath(files[m], ROOT)


mode = os.environ.get("MODE", "report")
if mode == "edges":
    for (a, b), ev in sorted(edges.items()):
        print(f"{name(a)} -> {name(b)}")
        for ln, txt, p in ev:
            print(f"    {rel(a)}:{ln}: {p}    | {txt[:110]}")
    sys.exit()

print("skipped (cfg(test)/undeclared) files:", [rel(m) for m in skipped])
print(f"{len(mods)} modules, {len(edges)} edges")
big = [sorted(c) for c in sccs if len(c) > 1]
print(f"{len(big)} SCC(s) with >1 node\n")
for c in sorted(big, key=len, reverse=True):
    cs = set(c)
    print(f"=== SCC of {len(c)} nodes: " + ", ".join(name(x) for x in c))
    for (a, b), ev in sorted(edges.items()):
        if a in cs and b in cs:
            back = (b, a) in edges
            print(f"  {name(a)} -> {name(b)}{'   [mutual]' if back else ''}")
            for ln, txt, p in ev[:6]:
                print(f"      {rel(a)}:{ln}: {p}")
            if len(ev) > 6:
                print(f"      ... +{len(ev) - 6} more")
    print()
# ---- top-level collapse (crate::X): metrics -> store::replicas and
# store::postgres -> metrics is no cycle between files, but is one between
# the two top-level modules, which the house rules forbid as well.
if True:
    tg = defaultdict(set); tev = defaultdict(list)
    for (a, b), ev in edges.items():
        ta, tb = a[:2], b[:2]
        if ta != tb:
            tg[ta].add(tb); tev[(ta, tb)] += [(rel(a), ln, p) for ln, _, p in ev]
    idx, lo, st, ons, out = {}, {}, [], set(), []
    c = [0]
    def sc(v):
        idx[v] = lo[v] = c[0]; c[0] += 1; st.append(v); ons.add(v)
        for w in tg[v]:
            if w not in idx: sc(w); lo[v] = min(lo[v], lo[w])
            elif w in ons: lo[v] = min(lo[v], idx[w])
        if lo[v] == idx[v]:
            comp = []
            while True:
                w = st.pop(); ons.discard(w); comp.append(w)
                if w == v: break
            out.append(comp)
    for v in list(tg):
        if v not in idx: sc(v)
    top = [sorted(name(x) for x in comp) for comp in out if len(comp) > 1]
    print("top-level SCC(s) with >1 module:", top)
    for comp in out:
        if len(comp) > 1:
            cs = set(comp)
            for (a, b), ev in sorted(tev.items()):
                if a in cs and b in cs:
                    print(f"  {name(a)} -> {name(b)}")
                    for path, ln, p in ev[:6]:
                        print(f"      {path}:{ln}: {p}")
    if os.environ.get("TOP"):
        for (a, b) in sorted(tev):
            print("  top", name(a), "->", name(b))
if big or top:
    sys.exit(1)
