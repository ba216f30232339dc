"""Scope analysis: which identifiers name the same local binding, so it can be renamed.

Bindings are hoisted the way JavaScript hoists them (`var` and parameters to the function,
`let`/`const`/`class` to the block, a function expression's name to itself). A binding at the
top level is global (a script's top-level names are visible to other scripts) and is never
renamed; nor is anything in a file that uses `with` or calls `eval`, where names are dynamic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

FUNCTION_NODES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "generator_function_declaration",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
_DECLARED_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration"})
_NAMED_FUNCTION_EXPRESSIONS = frozenset({"function_expression", "function", "generator_function"})
_REFERENCE_NODES = frozenset(
    {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
)
_NEVER_RENAMED = frozenset({"arguments", "eval", "undefined"})


@dataclass(eq=False)
class Scope:
    """A region of code with its own bindings; `kind` is program, function, block or class."""

    kind: str
    parent: Scope | None
    bindings: dict[str, Binding] = field(default_factory=dict)

    def function_scope(self) -> Scope:
        scope = self
        while scope.kind not in ("function", "program") and scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                return scope.bindings[name]
            scope = scope.parent
        return None


@dataclass(eq=False)
class Binding:
    """One declared name; renamable unless global, dynamic or a sloppy-mode block function."""

    name: str
    scope: Scope
    renamable: bool


def binding_identifiers(pattern: Node) -> Iterator[Node]:
    """The identifier nodes a declaration pattern binds (`{a, b: [c], ...d} = ...`)."""
    kind = pattern.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        yield pattern
    elif kind == "pair_pattern":
        value = pattern.child_by_field_name("value")
        if value is not None:
            yield from binding_identifiers(value)
    elif kind in ("assignment_pattern", "object_assignment_pattern"):
        left = pattern.child_by_field_name("left")
        if left is not None:
            yield from binding_identifiers(left)
    elif kind in ("object_pattern", "array_pattern", "rest_pattern"):
        for child in pattern.named_children:
            yield from binding_identifiers(child)


class ScopeAnalysis:
    """Walks a program once, then maps each renamable identifier's start byte to a new name."""

    def __init__(self, root: Node) -> None:
        self.program = Scope("program", None)
        self.bindings: list[Binding] = []
        self._references: list[tuple[Node, Scope]] = []
        self.dynamic = False
        self._visit_children(root, self.program)

    def renames(self, fresh_name: Callable[[], str]) -> dict[int, str]:
        """New names for every reference to a renamable binding, keyed by start byte."""
        if self.dynamic:
            return {}
        new_names = {id(binding): fresh_name() for binding in self.bindings if binding.renamable}
        result: dict[int, str] = {}
        for node, scope in self._references:
            binding = scope.lookup((node.text or b"").decode())
            if binding is not None and id(binding) in new_names:
                result[node.start_byte] = new_names[id(binding)]
        return result

    def _declare(self, node: Node, scope: Scope, *, renamable: bool = True) -> None:
        name = (node.text or b"").decode()
        if name in scope.bindings:
            return
        binding = Binding(
            name,
            scope,
            renamable and scope.kind != "program" and name not in _NEVER_RENAMED,
        )
        scope.bindings[name] = binding
        self.bindings.append(binding)

    def _declare_pattern(self, pattern: Node | None, scope: Scope) -> None:
        if pattern is not None:
            for identifier in binding_identifiers(pattern):
                self._declare(identifier, scope)

    def _visit_children(self, node: Node, scope: Scope) -> None:
        for child in node.children:
            self._visit(child, scope)

    def _visit(self, node: Node, scope: Scope) -> None:
        kind = node.type
        if kind in _REFERENCE_NODES:
            self._references.append((node, scope))
            if kind == "identifier" and node.text == b"eval":
                self.dynamic = True
        elif kind == "with_statement":
            self.dynamic = True
            self._visit_children(node, scope)
        elif kind in FUNCTION_NODES:
            self._visit_function(node, scope)
        elif kind in ("class_declaration", "class"):
            self._visit_class(node, scope)
        elif kind == "class_static_block":
            self._visit_children(node.child_by_field_name("body") or node, Scope("function", scope))
        elif kind in ("statement_block", "switch_body", "for_statement"):
            self._visit_children(node, Scope("block", scope))
        elif kind == "for_in_statement":
            self._visit_for_in(node, scope)
        elif kind == "catch_clause":
            inner = Scope("block", scope)
            self._declare_pattern(node.child_by_field_name("parameter"), inner)
            for child in node.children:
                if child.type == "statement_block":
                    self._visit_children(child, inner)
                else:
                    self._visit(child, inner)
        elif kind == "variable_declaration":
            for declarator in node.named_children:
                self._declare_pattern(
                    declarator.child_by_field_name("name"), scope.function_scope()
                )
            self._visit_children(node, scope)
        elif kind == "lexical_declaration":
            for declarator in node.named_children:
                self._declare_pattern(declarator.child_by_field_name("name"), scope)
            self._visit_children(node, scope)
        elif kind in ("import_clause", "namespace_import", "import_specifier"):
            self._visit_import(node)
        else:
            self._visit_children(node, scope)

    def _visit_import(self, node: Node) -> None:
        for child in node.named_children:
            if child.type == "identifier":
                self._declare(child, self.program, renamable=False)
            else:
                self._visit_import(child)

    def _visit_for_in(self, node: Node, scope: Scope) -> None:
        kind = node.child_by_field_name("kind")
        left = node.child_by_field_name("left")
        inner = Scope("block", scope)
        if kind is not None and kind.type == "var":
            self._declare_pattern(left, scope.function_scope())
        elif kind is not None:
            self._declare_pattern(left, inner)
        self._visit_children(node, inner)

    def _visit_function(self, node: Node, scope: Scope) -> None:
        kind = node.type
        inner = Scope("function", scope)
        name = node.child_by_field_name("name")
        if name is not None and kind in _DECLARED_FUNCTIONS:
            # A function declared in a nested block is block-scoped in strict code but also
            # var-scoped in sloppy code (Annex B): keep its name rather than guess.
            self._declare(name, scope, renamable=scope.kind in ("function", "program"))
        elif name is not None and kind in _NAMED_FUNCTION_EXPRESSIONS:
            self._declare(name, inner)
        self._declare_pattern(node.child_by_field_name("parameter"), inner)
        parameters = node.child_by_field_name("parameters")
        if parameters is not None:
            for parameter in parameters.named_children:
                self._declare_pattern(parameter, inner)
        for child in node.children:
            if name is not None and child.start_byte == name.start_byte and child.type == name.type:
                # a method's computed key is evaluated outside the method
                outer = kind in _DECLARED_FUNCTIONS or kind == "method_definition"
                self._visit(child, scope if outer else inner)
            elif child.type == "statement_block":
                self._visit_children(child, inner)
            else:
                self._visit(child, inner)

    def _visit_class(self, node: Node, scope: Scope) -> None:
        inner = Scope("class", scope)
        name = node.child_by_field_name("name")
        if name is not None:
            self._declare(name, scope if node.type == "class_declaration" else inner)
        for child in node.children:
            self._visit(child, scope if child == name else inner)
