"""The resource tree a program run would create, as indented text or an SVG drawing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from html import escape

from stacks.config import PROJECT
from stacks.simulate import Simulation

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Node:
    type: str
    name: str
    children: list[Node] = field(default_factory=list)


def resource_tree(sim: Simulation) -> Node:
    """The stack as root, every component and resource under the parent that created it."""
    root = Node(STACK_TYPE, f"{PROJECT}-{sim.env}")
    nodes = {r.urn: Node(r.type, r.name) for r in sim.resources}
    for resource in sim.resources:
        parent = nodes.get(resource.parent, root)
        parent.children.append(nodes[resource.urn])
    _sort(root)
    return root


def _sort(node: Node) -> None:
    # Components first, then by type and name: the same plan always prints the same way.
    node.children.sort(key=lambda n: (not n.type.startswith(PROJECT), n.type, n.name))
    for child in node.children:
        _sort(child)


def walk(node: Node, depth: int = 0) -> list[tuple[int, Node]]:
    rows = [(depth, node)]
    for child in node.children:
        rows.extend(walk(child, depth + 1))
    return rows


def render_text(root: Node) -> str:
    """One line per resource, indented under its parent: `<type token>  <name>`."""
    return "\n".join(f"{'  ' * depth}{node.type}  {node.name}" for depth, node in walk(root)) + "\n"


def render_dot(root: Node) -> str:
    lines = [
        "digraph stack {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica", fontsize=10];',
    ]
    numbered = walk(root)
    ids = {id(node): f"n{index}" for index, (_, node) in enumerate(numbered)}
    for _, node in numbered:
        label = f"{node.type}\\n{node.name}".replace('"', "'")
        style = ', style="rounded,filled", fillcolor="#e8eefc"' if node.children else ""
        lines.append(f'  {ids[id(node)]} [label="{label}"{style}];')
        lines.extend(f"  {ids[id(node)]} -> {ids[id(child)]};" for child in node.children)
    lines.append("}")
    return "\n".join(lines) + "\n"


ROW, INDENT, CHAR, PAD = 24, 28, 7.0, 8


def render_svg_python(root: Node) -> str:
    """A pure-Python drawing: the indented tree as boxes joined by elbow lines."""
    rows = walk(root)
    width = max(depth * INDENT + len(f"{n.type}  {n.name}") * CHAR + 3 * PAD for depth, n in rows)
    height = len(rows) * ROW + PAD * 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    position: dict[int, tuple[float, float]] = {}
    for index, (depth, node) in enumerate(rows):
        x, y = PAD + depth * INDENT, PAD + index * ROW
        position[id(node)] = (x, y)
        text = f"{node.type}  {node.name}"
        fill = "#e8eefc" if node.children else "#f6f6f6"
        parts.append(
            f'<rect x="{x}" y="{y}" width="{len(text) * CHAR + PAD:.0f}" height="{ROW - 6}" '
            f'rx="4" fill="{fill}" stroke="#8899aa"/>'
        )
        parts.append(
            f'<text x="{x + PAD / 2}" y="{y + ROW - 11}"><tspan font-weight="bold">'
            f"{escape(node.type)}</tspan>  {escape(node.name)}</text>"
        )
    for _, node in rows:
        px, py = position[id(node)]
        for child in node.children:
            cx, cy = position[id(child)]
            mid = cy + (ROW - 6) / 2
            parts.append(
                f'<path d="M{px + INDENT / 2} {py + ROW - 6} V{mid} H{cx}" fill="none" '
                f'stroke="#8899aa"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render_svg(root: Node) -> tuple[str, str]:
    """(svg, how): graphviz `dot` when installed, else the pure-Python writer."""
    dot = shutil.which("dot")
    if dot:
        result = subprocess.run(
            [dot, "-Tsvg"], input=render_dot(root), capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return result.stdout, "graphviz dot"
    return render_svg_python(root), "built-in SVG writer"
