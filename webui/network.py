"""The network view: ads and identifiers as a graph, dense clusters collapsed, laid out.

Pure: it takes identifier summaries (indexer.store.entity_summary) that the store has
already cleaned of corrected extractions, so a link an analyst marked wrong is simply
not there. Why collapse: one number in 300 ads draws as a hairball that hides the few
ads that bridge to other numbers; those bridges are what an analyst follows. So an
identifier with more than ``dense`` ads keeps the ads that link elsewhere and folds the
rest into one "N ads" node, which the analyst can expand: first the ads that carry
nothing else, and only if that is not enough also the ads whose other identifiers lead
nowhere else in the view (so a second number beside the first stays visible when it can).

Layout is deterministic (a radial tree: rings by distance from the centre, each node in
a wedge sized by the leaves below it, beside its parent), so the same data always draws
the same picture and tests can rely on it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from indexer.store.entity_summary import EntitySummary

RING = 110.0
MARGIN = 120.0  # room for labels right of the outer ring


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # ad | phone | email | handle | url | cluster
    label: str
    key: str  # ad id, identifier value, or the identifier node a cluster belongs to
    count: int = 1  # ads folded into a cluster
    center: bool = False
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class Edge:
    a: str
    b: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    collapsed: tuple[str, ...] = ()  # identifier node ids whose ads were folded
    truncated: bool = False  # nodes beyond max_nodes were left out

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)


def ident_id(kind: str, value: str) -> str:
    return f"i:{kind}:{value}"


def ad_node_id(ad_id: str) -> str:
    return f"a:{ad_id}"


def _short(text: str, n: int = 32) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _collect(summaries: Iterable[EntitySummary]) -> tuple[dict[str, Node], dict[str, set[str]]]:
    nodes: dict[str, Node] = {}
    adj: dict[str, set[str]] = defaultdict(set)

    def link(a: str, b: str) -> None:
        adj[a].add(b)
        adj[b].add(a)

    for s in summaries:
        iid = ident_id(s.kind, s.value)
        nodes.setdefault(iid, Node(iid, s.kind, s.value, s.value))
        for ad in s.ads:
            aid = ad_node_id(ad.ad_id)
            nodes.setdefault(aid, Node(aid, "ad", _short(ad.title or ad.ad_id), ad.ad_id))
            link(aid, iid)
            for kind, value in ad.identifiers:
                other = ident_id(kind, value)
                nodes.setdefault(other, Node(other, kind, value, value))
                link(aid, other)
    return nodes, adj


def _collapse(nodes: dict[str, Node], adj: dict[str, set[str]], dense: int,
              expand: frozenset[str], center: str) -> list[str]:
    """Fold each dense identifier's dead-end ads into one cluster node; ids collapsed."""
    collapsed: list[str] = []
    for iid in sorted(n for n in nodes if n.startswith("i:")):
        if iid in expand or iid not in nodes:
            continue
        ads = sorted(a for a in adj[iid] if a.startswith("a:") and a in nodes)
        if len(ads) <= dense:
            continue
        dead = _foldable(ads, iid, adj, center, dense)
        if len(dead) < 2:
            continue
        cid = f"c:{iid}"
        nodes[cid] = Node(cid, "cluster", f"{len(dead)} ads", iid, count=len(dead))
        for a in dead:
            for o in list(adj[a]):
                adj[o].discard(a)
                if o != iid and not adj[o]:
                    nodes.pop(o, None)
            adj.pop(a, None)
            nodes.pop(a, None)
        adj[cid] = {iid}
        adj[iid].add(cid)
        collapsed.append(iid)
    return collapsed


def _foldable(ads: list[str], iid: str, adj: Mapping[str, set[str]], center: str,
              dense: int) -> list[str]:
    """Ads to fold into the cluster: first those that carry nothing else; if that still
    leaves more than ``dense``, also those whose other identifiers lead nowhere else."""
    bare = [a for a in ads if adj[a] == {iid}]
    if len(ads) - len(bare) <= dense:
        return bare
    return [a for a in ads
            if all(o == iid or (len(adj[o]) == 1 and o != center) for o in adj[a])]


def _tree(center: str, adj: Mapping[str, set[str]], nodes: Mapping[str, Node],
          max_nodes: int) -> tuple[dict[str, list[str]], dict[str, int], bool]:
    """Breadth-first spanning tree from the centre, cut at ``max_nodes``:
    (children of each node, depth of each node, whether nodes were left out)."""
    children: dict[str, list[str]] = {center: []}
    depth = {center: 0}
    queue = [center]
    truncated = False
    for parent in queue:
        for child in sorted(adj.get(parent, ()), key=lambda c: (nodes[c].kind, c)):
            if child not in nodes or child in depth:
                continue
            if len(depth) >= max_nodes:
                truncated = True
                continue
            depth[child] = depth[parent] + 1
            children[parent].append(child)
            children[child] = []
            queue.append(child)
    return children, depth, truncated


def _leaves(nid: str, children: Mapping[str, list[str]], memo: dict[str, int]) -> int:
    if nid not in memo:
        memo[nid] = max(1, sum(_leaves(c, children, memo) for c in children[nid]))
    return memo[nid]


def _angles(center: str, children: Mapping[str, list[str]]) -> dict[str, float]:
    """Radial tree layout: each node gets a wedge in proportion to the leaves below it,
    and sits in its wedge's middle, so children stay beside their parent."""
    memo: dict[str, int] = {}
    out: dict[str, float] = {center: 0.0}
    stack = [(center, -math.pi / 2, 3 * math.pi / 2)]
    while stack:
        nid, start, end = stack.pop()
        total = _leaves(nid, children, memo)
        for child in children[nid]:
            share = (end - start) * _leaves(child, children, memo) / total
            out[child] = start + share / 2
            stack.append((child, start, start + share))
            start += share
    return out


def build(center: tuple[str, str], summaries: Iterable[EntitySummary], *, dense: int = 8,
          expand: Iterable[str] = (), max_nodes: int = 160) -> Graph:
    """The graph around ``center`` (kind, value) from its summary and its neighbours'."""
    nodes, adj = _collect(summaries)
    cid = ident_id(*center)
    if cid not in nodes:
        nodes[cid] = Node(cid, center[0], center[1], center[1])
    nodes[cid] = _with(nodes[cid], center=True)
    collapsed = _collapse(nodes, adj, dense, frozenset(expand), cid)
    children, depth, truncated = _tree(cid, adj, nodes, max_nodes)
    angles = _angles(cid, children)
    size = 2 * (RING * max(depth.values()) + MARGIN)
    placed: dict[str, Node] = {}
    for nid, level in depth.items():
        r = RING * level
        placed[nid] = _with(nodes[nid], x=round(size / 2 + r * math.cos(angles[nid]), 1),
                            y=round(size / 2 + r * math.sin(angles[nid]), 1))
    edges = sorted({Edge(*sorted((a, b))) for a in placed for b in adj.get(a, ()) if b in placed},
                   key=lambda e: (e.a, e.b))
    return Graph(tuple(placed.values()), tuple(edges), size, size, tuple(collapsed), truncated)


def _with(node: Node, **changes: object) -> Node:
    return replace(node, **changes)  # type: ignore[arg-type]
