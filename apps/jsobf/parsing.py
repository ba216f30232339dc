"""Parse ES2022 source with tree-sitter-javascript; a failed parse names its line."""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser, Tree

JAVASCRIPT = Language(tree_sitter_javascript.language())


@dataclass(frozen=True)
class JsSyntaxError(Exception):
    """The file is not JavaScript the parser accepts; `line` and `column` are 1-based."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def parse_javascript(source: bytes) -> Tree:
    """The concrete syntax tree of `source`, or JsSyntaxError at the first error in it."""
    tree = Parser(JAVASCRIPT).parse(source)
    if tree.root_node.has_error:
        raise _first_error(tree.root_node)
    return tree


def _first_error(root: Node) -> JsSyntaxError:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            return _at(node, f"missing {node.type!r}")
        if node.is_error:
            snippet = node.text.decode("utf-8", "replace").strip().splitlines() if node.text else []
            found = snippet[0][:40] if snippet else "end of input"
            return _at(node, f"unexpected {found!r}")
        stack.extend(child for child in reversed(node.children) if child.has_error)
    return _at(root, "syntax error")


def _at(node: Node, message: str) -> JsSyntaxError:
    row, column = node.start_point
    return JsSyntaxError(line=row + 1, column=column + 1, message=message)
