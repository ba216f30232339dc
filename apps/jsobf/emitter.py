"""The obfuscating printer: walks the syntax tree and writes compact, transformed source.

Every node prints as a list of tokens; a node type with a rule below prints its own way
(renamed identifier, string-array call, number expression, flattened body), any other node
prints its children. Tokens are joined with a space only where two would otherwise fuse, and
every statement ends in an explicit `;`, so dropping newlines cannot change what ASI did.
"""

from __future__ import annotations

import hashlib
import random
import re
import string
import sys
from collections.abc import Callable

from tree_sitter import Node

from apps.jsobf.literals import decode_string_literal, decode_template_chunk, utf16_units
from apps.jsobf.parsing import parse_javascript
from apps.jsobf.presets import Preset
from apps.jsobf.scopes import FUNCTION_NODES, ScopeAnalysis, binding_identifiers
from apps.jsobf.string_array import StringArray

_COMMENTS = frozenset({"comment", "html_comment"})
_SEMICOLON_STATEMENTS = frozenset(
    {
        "expression_statement",
        "variable_declaration",
        "lexical_declaration",
        "return_statement",
        "throw_statement",
        "break_statement",
        "continue_statement",
        "debugger_statement",
        "do_statement",
        "import_statement",
        "export_statement",
    }
)
_DECLARED_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration"})
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
_MODULE_PARENTS = frozenset({"import_statement", "export_statement", "import_attribute"})
_KEY_FIELDS = {
    "pair": "key",
    "pair_pattern": "key",
    "method_definition": "name",
    "field_definition": "property",
}
_NAME_IN_SOURCE = re.compile(rb"[A-Za-z_$][A-Za-z0-9_$]*")
_DECIMAL_INTEGER = re.compile(r"[1-9][0-9]*|0")
_DIGITS_ONLY = re.compile(r"[0-9_]+")
_MAX_INTEGER = 2**31 - 1


def file_seed(seed: int, source: bytes) -> int:
    """Per-file randomness from the run's seed and the file's bytes, never from run order."""
    digest = hashlib.sha256(seed.to_bytes(16, "big", signed=True) + source).digest()
    return int.from_bytes(digest[:8], "big")


def needs_space(before: str, after: str) -> bool:
    """Whether two tokens written back to back would lex as something else."""
    last, first = before[-1], after[0]
    if _identifier_char(last) and _identifier_char(first):
        return True
    if last in "+-" and first == last:
        return True
    if (last == "/" and first in "/*") or (last == "<" and first == "!"):
        return True
    if before.endswith("--") and first == ">":
        return True
    return first == "." and _DIGITS_ONLY.fullmatch(before) is not None


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char in "_$\\" or ord(char) > 0x7F


def join_tokens(tokens: list[str]) -> str:
    parts: list[str] = []
    previous = ""
    for token in tokens:
        if not token:
            continue
        if previous and needs_space(previous, token):
            parts.append(" ")
        parts.append(token)
        previous = token
    return "".join(parts)


class Obfuscator:
    """One file's obfuscation; construct it (which parses) and call `run()`."""

    def __init__(self, source: bytes, preset: Preset, seed: int) -> None:
        self.source = source
        self.preset = preset
        self.tree = parse_javascript(source)
        self.rng = random.Random(file_seed(seed, source))
        self.taken = {match.decode() for match in _NAME_IN_SOURCE.findall(source)}
        self.renames = ScopeAnalysis(self.tree.root_node).renames(self.fresh_name)
        self.strings = StringArray(self.rng, self.fresh_name, encode=preset.encode_strings)
        self._loop_depth = 0
        self._rules: dict[str, Callable[[Node, list[str]], None]] = {
            "program": self._program,
            "statement_block": self._block,
            "class_body": self._class_body,
            "identifier": self._identifier,
            "shorthand_property_identifier": self._shorthand,
            "shorthand_property_identifier_pattern": self._shorthand,
            "string": self._string,
            "number": self._number,
            "true": self._boolean,
            "false": self._boolean,
            "template_string": self._template,
            "member_expression": self._member,
            "regex": self._verbatim,
            "hash_bang_line": self._hash_bang,
        }

    def run(self) -> str:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 20_000))
        try:
            tokens: list[str] = []
            self.emit(self.tree.root_node, tokens)
        finally:
            sys.setrecursionlimit(limit)
        return join_tokens(tokens) + "\n"

    def fresh_name(self) -> str:
        """A hex-style name used nowhere in the file, so it can shadow or be shadowed by none."""
        while True:
            name = f"_0x{self.rng.randrange(0x10000, 0x1000000):x}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    # -- generic printing ---------------------------------------------------------------------

    def emit(self, node: Node, out: list[str]) -> None:
        if node.type in _LOOPS or node.type in FUNCTION_NODES:
            saved = self._loop_depth
            self._loop_depth = saved + 1 if node.type in _LOOPS else 0
            try:
                self._emit(node, out)
            finally:
                self._loop_depth = saved
        else:
            self._emit(node, out)

    def _emit(self, node: Node, out: list[str]) -> None:
        rule = self._rules.get(node.type)
        if rule is not None:
            rule(node, out)
            return
        if node.child_count == 0:
            if node.type not in _COMMENTS:
                out.append(self.text(node))
            return
        for child in node.children:
            self.emit(child, out)
        if node.type in _SEMICOLON_STATEMENTS and not _ends_with_semicolon(node):
            out.append(";")

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8")

    def _verbatim(self, node: Node, out: list[str]) -> None:
        out.append(self.text(node))

    def _hash_bang(self, node: Node, out: list[str]) -> None:
        out.append(self.text(node) + "\n")

    # -- names --------------------------------------------------------------------------------

    def _identifier(self, node: Node, out: list[str]) -> None:
        out.append(self.renames.get(node.start_byte) or self.text(node))

    def _shorthand(self, node: Node, out: list[str]) -> None:
        """`{a}` keeps its property name when the variable is renamed: `{a:_0x1f2e}`."""
        new_name = self.renames.get(node.start_byte)
        out.extend([self.text(node), ":", new_name] if new_name else [self.text(node)])

    # -- literals -----------------------------------------------------------------------------

    def _string(self, node: Node, out: list[str]) -> None:
        if _is_fixed_literal(node):
            out.append(self.text(node))
        else:
            out.extend(self.string_call(decode_string_literal(self.text(node))))

    def string_call(self, units: tuple[int, ...]) -> list[str]:
        index = self.strings.index_of(units)
        argument = self.number_tokens(index) if self.preset.flatten_control_flow else [hex(index)]
        return [self.strings.accessor_name, "(", *argument, ")"]

    def _string_value(self, value: str) -> list[str]:
        return self.string_call(tuple(utf16_units(value)))

    def _number(self, node: Node, out: list[str]) -> None:
        value = _integer_value(self.text(node))
        if value is None or not self.preset.numbers_to_expressions or _is_key(node):
            out.append(self.text(node))
        else:
            out.extend(self.number_tokens(value))

    def _boolean(self, node: Node, out: list[str]) -> None:
        if not self.preset.numbers_to_expressions:
            out.append(node.type)
        else:
            out.extend(["(", "!![]" if node.type == "true" else "![]", ")"])

    def number_tokens(self, value: int) -> list[str]:
        """`value` as an arithmetic expression of other integers, e.g. `(0x3a*17+0x9)`."""
        if not self.preset.numbers_to_expressions:
            return [str(value)]
        rng = self.rng
        if value < 4 or rng.random() < 0.5:
            first = rng.randrange(1, 0x10000)
            third = first + rng.randrange(0, 0x1000)
            terms = [self._literal(first), "+", self._literal(value - first + third), "-"]
            return ["(", *terms, self._literal(third), ")"]
        factor = rng.randrange(2, min(0x100, value))
        quotient, remainder = divmod(value, factor)
        terms = [self._literal(factor), "*", self._literal(quotient), "+"]
        return ["(", *terms, self._literal(remainder), ")"]

    def _literal(self, value: int) -> str:
        return hex(value) if self.rng.random() < 0.5 else str(value)

    def _template(self, node: Node, out: list[str]) -> None:
        """An untagged template becomes `"head".concat(a, "middle", b)` with every text part
        in the string array; `concat` applies ToString exactly as a template does. A tagged
        template must keep its raw text, so only its substitutions are transformed."""
        parent = node.parent
        chunks: list[str] = []
        substitutions: list[Node] = []
        position = node.start_byte + 1
        for child in node.children:
            if child.type == "template_substitution":
                chunks.append(self.source[position : child.start_byte].decode("utf-8"))
                substitutions.append(child)
                position = child.end_byte
        chunks.append(self.source[position : node.end_byte - 1].decode("utf-8"))
        if (
            parent is not None
            and parent.type == "call_expression"
            and node != parent.child_by_field_name("function")
        ):
            self._tagged_template(chunks, substitutions, out)
            return
        out.extend(self.string_call(decode_template_chunk(chunks[0])))
        if not substitutions:
            return
        out.extend([*self.property("concat"), "("])
        for position, substitution in enumerate(substitutions):
            if position:
                out.append(",")
            out.extend(self._substitution(substitution, parenthesize=True))
            if chunks[position + 1]:
                out.extend([",", *self.string_call(decode_template_chunk(chunks[position + 1]))])
        out.append(")")

    def _tagged_template(
        self, chunks: list[str], substitutions: list[Node], out: list[str]
    ) -> None:
        parts = ["`", chunks[0]]
        for substitution, chunk in zip(substitutions, chunks[1:], strict=True):
            tokens = self._substitution(substitution, parenthesize=False)
            parts.extend(["${", join_tokens(tokens), "}", chunk])
        parts.append("`")
        out.append("".join(parts))

    def _substitution(self, substitution: Node, *, parenthesize: bool) -> list[str]:
        tokens: list[str] = []
        expressions = [part for part in substitution.named_children if part.type not in _COMMENTS]
        for expression in expressions:
            self.emit(expression, tokens)
        if parenthesize and any(part.type == "sequence_expression" for part in expressions):
            tokens = ["(", *tokens, ")"]
        return tokens

    def property(self, name: str) -> list[str]:
        """Access to a property named `name`: `.name`, or `[<string array call>]` at high."""
        if self.preset.property_names_to_strings:
            return ["[", *self._string_value(name), "]"]
        return [".", name]

    def _member(self, node: Node, out: list[str]) -> None:
        name = node.child_by_field_name("property")
        rewrite = self.preset.property_names_to_strings
        for child in node.children:
            if rewrite and name is not None and name.type == "property_identifier":
                if child.type == ".":
                    continue
                if child == name:
                    out.extend(["[", *self._string_value(self.text(name)), "]"])
                    continue
            self.emit(child, out)

    # -- statements ---------------------------------------------------------------------------

    def _program(self, node: Node, out: list[str]) -> None:
        children = [child for child in node.children if child.type not in _COMMENTS]
        head: list[str] = []
        if children and children[0].type == "hash_bang_line":
            self._hash_bang(children.pop(0), head)
        head.extend(self._directives(children))
        body: list[str] = []
        for child in children[len(_prologue(children)) :]:
            self.emit(child, body)
        out.extend([*head, self.strings.runtime(), *body])

    def _directives(self, statements: list[Node]) -> list[str]:
        tokens: list[str] = []
        for statement in _prologue(statements):
            tokens.extend([self.text(statement.named_children[0]), ";"])
        return tokens

    def _block(self, node: Node, out: list[str]) -> None:
        statements = [child for child in node.named_children if child.type not in _COMMENTS]
        parent = node.parent
        is_body = parent is not None and parent.type in FUNCTION_NODES
        out.append("{")
        if is_body:
            out.extend(self._directives(statements))
            statements = statements[len(_prologue(statements)) :]
        if is_body and self.preset.flatten_control_flow and _flattenable(statements):
            self._flatten(statements, out)
        else:
            for statement in statements:
                out.extend(self._maybe_dead_code())
                self.emit(statement, out)
        out.append("}")

    def _class_body(self, node: Node, out: list[str]) -> None:
        children = [child for child in node.children if child.type not in _COMMENTS]
        for position, child in enumerate(children):
            self.emit(child, out)
            following = children[position + 1] if position + 1 < len(children) else None
            if child.type == "field_definition" and (following is None or following.type != ";"):
                out.append(";")

    # -- dead code ----------------------------------------------------------------------------

    def _maybe_dead_code(self) -> list[str]:
        """Dead code, sometimes; never inside a loop, where its check would run every pass."""
        rate = self.preset.dead_code_rate
        if not rate or self._loop_depth:
            return []
        return self.dead_code() if self.rng.random() < rate else []

    def dead_code(self) -> list[str]:
        """An `if` whose condition compares two different strings, around plausible code."""
        first = self._word()
        second = first
        while second == first:
            second = self._word()
        condition = [*self._string_value(first), "===", *self._string_value(second)]
        return ["if", "(", *condition, ")", "{", *self._junk_body(), "}"]

    def _word(self) -> str:
        return "".join(self.rng.choices(string.ascii_letters, k=self.rng.randrange(4, 9)))

    def _junk_body(self) -> list[str]:
        rng, number = self.rng, self.number_tokens
        value, other = self.fresh_name(), self.fresh_name()
        shape = rng.randrange(4)
        if shape == 0:
            return [
                *("let", value, "=", *self._string_value(self._word()), ";"),
                *(value, "=", value, *self.property("split"), "(", '""', ")"),
                *(*self.property("reverse"), "(", ")", ";"),
            ]
        if shape == 1:
            items = [*number(rng.randrange(0x10000)), ",", *number(rng.randrange(0x10000))]
            return [
                *("let", value, "=", "[", *items, "]", ";", "for", "(", "let", other, "="),
                *(*number(0), ";", other, "<", value, *self.property("length"), ";"),
                *(other, "++", ")"),
                *("{", value, "[", other, "]", "^=", *number(rng.randrange(0x100)), ";", "}"),
            ]
        if shape == 2:
            return [
                *("let", value, "=", "function", "(", other, ")", "{", "return", other, "*"),
                *(*number(rng.randrange(2, 0x100)), "+", *number(rng.randrange(0x100)), ";"),
                *("}", "(", *number(rng.randrange(0x1000)), ")", ";"),
            ]
        return [
            *("let", value, "=", "{", "}", ";", value, "[", *self._string_value(self._word())),
            *("]", "=", *number(rng.randrange(0x10000)), ";"),
        ]

    # -- control-flow flattening --------------------------------------------------------------

    def _flatten(self, statements: list[Node], out: list[str]) -> None:
        """Run the body's statements from a dispatcher: `while` over a `switch` whose cases
        are shuffled and whose execution order is a decoded `"3|0|2|1"` string.

        Function declarations stay first (they are hoisted anyway). `let`/`const`/`class`
        bindings move to one `let` before the loop and their declarations become assignments,
        because each pass of the loop would otherwise enter a fresh `switch` scope.
        """
        hoisted: list[str] = []
        units: list[list[str]] = []
        for statement in statements:
            if statement.type in _DECLARED_FUNCTIONS:
                self.emit(statement, out)
                continue
            junk = self._maybe_dead_code()
            if junk:
                units.append(junk)
            unit: list[str] = []
            if statement.type == "lexical_declaration":
                self._declaration_as_assignment(statement, unit, hoisted)
            elif statement.type == "class_declaration":
                name = statement.child_by_field_name("name")
                if name is not None:
                    hoisted.append(self._emitted(name))
                    unit.extend(["(", self._emitted(name), "="])
                    self.emit(statement, unit)
                    unit.extend([")", ";"])
            else:
                self.emit(statement, unit)
            if unit:
                units.append(unit)
        if hoisted:
            out.extend(["let", ",".join(hoisted), ";"])
        labels = list(range(len(units)))
        self.rng.shuffle(labels)
        order, step = self.fresh_name(), self.fresh_name()
        sequence = "|".join(str(label) for label in labels)
        out.extend(["let", order, "=", *self._string_value(sequence), *self.property("split"), "("])
        out.extend([*self._string_value("|"), ")", ",", step, "=", "0", ";"])
        out.extend(["while", "(", "!!", "[", "]", ")", "{", "switch", "(", order, "[", step])
        out.extend(["++", "]", ")", "{"])
        cases = list(range(len(units)))
        self.rng.shuffle(cases)
        for position in cases:
            out.extend(["case", f'"{labels[position]}"', ":", *units[position], "continue", ";"])
        out.extend(["}", "break", ";", "}"])

    def _declaration_as_assignment(
        self, statement: Node, unit: list[str], hoisted: list[str]
    ) -> None:
        assignments: list[str] = []
        for declarator in statement.named_children:
            if declarator.type != "variable_declarator":
                continue
            target = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if target is None:
                continue
            hoisted.extend(self._emitted(name) for name in binding_identifiers(target))
            if value is None:
                continue
            if assignments:
                assignments.append(",")
            self.emit(target, assignments)
            assignments.append("=")
            self.emit(value, assignments)
        if assignments:
            unit.extend(["(", *assignments, ")", ";"])

    def _emitted(self, identifier: Node) -> str:
        """The final name of a binding identifier (`{a}` patterns bind the variable `a`)."""
        return self.renames.get(identifier.start_byte) or self.text(identifier)


def _ends_with_semicolon(node: Node) -> bool:
    for child in reversed(node.children):
        if child.type not in _COMMENTS:
            return child.type == ";"
    return False


def _prologue(statements: list[Node]) -> list[Node]:
    """The leading `"use strict"`-style directives, which must stay first and unchanged."""
    prologue: list[Node] = []
    for statement in statements:
        named = [child for child in statement.named_children if child.type not in _COMMENTS]
        if statement.type != "expression_statement" or len(named) != 1 or named[0].type != "string":
            break
        prologue.append(statement)
    return prologue


def _flattenable(statements: list[Node]) -> bool:
    return sum(1 for node in statements if node.type not in _DECLARED_FUNCTIONS) >= 2


def _is_key(node: Node) -> bool:
    parent = node.parent
    if parent is None or parent.type not in _KEY_FIELDS:
        return False
    key = parent.child_by_field_name(_KEY_FIELDS[parent.type])
    return key is not None and key.start_byte == node.start_byte and key.type == node.type


def _is_fixed_literal(node: Node) -> bool:
    """Module specifiers and property keys must stay literal strings."""
    parent = node.parent
    return (parent is not None and parent.type in _MODULE_PARENTS) or _is_key(node)


def _integer_value(text: str) -> int | None:
    digits = text.replace("_", "").lower()
    value: int | None = None
    if _DECIMAL_INTEGER.fullmatch(digits):
        value = int(digits)
    elif digits[:2] in ("0x", "0o", "0b") and len(digits) > 2 and not digits.endswith("n"):
        try:
            value = int(digits, 0)
        except ValueError:
            return None
    return value if value is not None and value <= _MAX_INTEGER else None
