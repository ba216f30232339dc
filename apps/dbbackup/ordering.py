"""Restore order from foreign keys: parents before children, cycles broken by deferring FKs.

Tables are created and loaded in topological order of their foreign keys, so every key can be
checked as rows arrive. A foreign key inside a cycle (a strongly connected component of the
reference graph, a self-reference included) cannot be satisfied that way: it is left out of the
table's DDL and added after all data is loaded.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ForeignKey:
    """One foreign key: `child` (table holding it) references `parent`."""

    child: str
    name: str
    parent: str


@dataclass
class RestoreOrder:
    """Tables in creation order, what each waits for, and the FKs to add after data."""

    tables: list[str]
    depends_on: dict[str, set[str]] = field(default_factory=dict)
    deferred: set[tuple[str, str]] = field(default_factory=set)

    def is_deferred(self, key: ForeignKey) -> bool:
        return (key.child, key.name) in self.deferred


def strongly_connected(nodes: Sequence[str], edges: dict[str, set[str]]) -> dict[str, int]:
    """Tarjan's algorithm, iterative: the component number of every node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = 0
    components = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = []
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work.append((root, iter(sorted(edges.get(root, ())))))
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = components
                    if member == node:
                        break
                components += 1
    return component


def restore_order(tables: Sequence[str], foreign_keys: Iterable[ForeignKey]) -> RestoreOrder:
    """Order `tables` so every parent precedes its children; defer the FKs of cycles.

    Keys whose parent is not among `tables` are ignored here (the caller decides about them).
    Ties keep the order of `tables`, so the result is deterministic.
    """
    known = set(tables)
    keys = [k for k in foreign_keys if k.child in known and k.parent in known]
    references: dict[str, set[str]] = {t: set() for t in tables}
    for key in keys:
        references[key.child].add(key.parent)
    component = strongly_connected(tables, references)
    deferred = {(k.child, k.name) for k in keys if component[k.child] == component[k.parent]}
    depends_on: dict[str, set[str]] = {t: set() for t in tables}
    for key in keys:
        if (key.child, key.name) not in deferred:
            depends_on[key.child].add(key.parent)
    position = {t: i for i, t in enumerate(tables)}
    waiting = {t: len(depends_on[t]) for t in tables}
    children: dict[str, list[str]] = {t: [] for t in tables}
    for child, parents in depends_on.items():
        for parent in parents:
            children[parent].append(child)
    ready = [(position[t], t) for t in tables if waiting[t] == 0]
    heapq.heapify(ready)
    ordered: list[str] = []
    while ready:
        _, table = heapq.heappop(ready)
        ordered.append(table)
        for child in children[table]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (position[child], child))
    return RestoreOrder(tables=ordered, depends_on=depends_on, deferred=deferred)
