"""What each transformation does to the text, checked on small programs."""

from __future__ import annotations

import re

import pytest

from apps.jsobf.parsing import JsSyntaxError
from apps.jsobf.presets import PresetName
from apps.jsobf.services import obfuscate_source
from tests.apps.jsobf.conftest import needs_node, run_node

PROGRAM = """\
function totalPrice(items, taxRate) {
  let subtotal = 0;
  for (const item of items) subtotal += item.price * item.quantity;
  const message = "computed total";
  return { message, total: subtotal * (1 + taxRate) };
}
console.log(totalPrice([{ price: 12345, quantity: 2 }], 0.5));
"""


def test_local_names_are_renamed_and_globals_and_properties_kept():
    out = obfuscate_source(PROGRAM, PresetName.medium, 1)
    for local in ("subtotal", "items", "taxRate", "item"):
        assert not re.search(rf"\b{local}\b", out), local
    for kept in ("totalPrice", "console", "price", "quantity", "total"):
        assert re.search(rf"\b{kept}\b", out), kept


def test_shorthand_property_keeps_its_key_when_the_variable_is_renamed():
    out = obfuscate_source(PROGRAM, PresetName.low, 1)
    assert re.search(r"\{message:_0x[0-9a-f]+,", out)


def test_strings_move_into_an_encoded_array_at_medium():
    low = obfuscate_source(PROGRAM, PresetName.low, 1)
    medium = obfuscate_source(PROGRAM, PresetName.medium, 1)
    assert '"computed total"' in low.split(";")[0]
    assert "computed total" not in medium


def test_numbers_become_expressions_from_medium():
    assert "12345" in obfuscate_source(PROGRAM, PresetName.low, 1)
    assert "12345" not in obfuscate_source(PROGRAM, PresetName.medium, 1)


def test_high_flattens_function_bodies_into_a_dispatcher():
    low = obfuscate_source(PROGRAM, PresetName.low, 1)
    high = obfuscate_source(PROGRAM, PresetName.high, 1)
    assert "switch" not in low
    assert re.search(r"while\(!!\[\]\)\{switch\(", high)


def test_high_hides_property_names_in_the_string_array():
    high = obfuscate_source(PROGRAM, PresetName.high, 1)
    assert not re.search(r"\.(log|price|quantity)\b", high)


def test_dead_code_is_injected_behind_an_always_false_comparison():
    body = "\n".join(f"  x += {i};" for i in range(40))
    source = f"function f(x) {{\n{body}\n  return x;\n}}\nconsole.log(f(1));\n"
    out = obfuscate_source(source, PresetName.medium, 3)
    assert len(re.findall(r"if\(_0x[0-9a-f]+\(0x[0-9a-f]+\)===", out)) >= 2


def test_output_is_compacted_to_one_line_without_comments():
    source = "// a comment\nconst a = 1 /* inline */\nconsole.log(a)\n"
    out = obfuscate_source(source, PresetName.low, 1)
    assert out.count("\n") == 1
    assert "comment" not in out and "inline" not in out


def test_same_seed_same_bytes_and_another_seed_other_bytes():
    first = obfuscate_source(PROGRAM, PresetName.high, 42)
    assert obfuscate_source(PROGRAM, PresetName.high, 42) == first
    assert obfuscate_source(PROGRAM, PresetName.high, 43) != first


def test_directive_prologue_and_hashbang_stay_first():
    source = '#!/usr/bin/env node\n"use strict";\nfunction f() { "use strict"; return "x" }\n'
    out = obfuscate_source(source, PresetName.high, 1)
    assert out.startswith('#!/usr/bin/env node\n"use strict";')
    assert 'function f(){"use strict";' in out


def test_files_using_eval_keep_their_names():
    source = "function f(secret) { return eval('secret') }\nconsole.log(f(1));\n"
    assert "secret)" in obfuscate_source(source, PresetName.medium, 1)


def test_a_parse_error_names_its_line():
    with pytest.raises(JsSyntaxError) as caught:
        obfuscate_source("const ok = 1;\nfunction broken( {\n", PresetName.low, 1)
    assert caught.value.line == 2


@needs_node
@pytest.mark.parametrize(
    "source",
    [
        "let a = 1\nlet b = a\n++b\nconsole.log(a, b)\n",
        "const x = 10, g = 2\nconst y = x\n/2/g\nconsole.log(y, `t${x}`, /x\\/y/.source)\n",
        "const s = `a\\`b${1}\\${c}\r\nd`;\nconsole.log(JSON.stringify(s), s.length)\n",
        "console.log(1 .toString(), 0x10.toString(), [1 + +1, 1 - -1, 2 - --[1][0]].join())\n",
    ],
    ids=["asi-prefix-increment", "regex-vs-division", "template-escapes", "adjacent-operators"],
)
@pytest.mark.parametrize("preset", list(PresetName))
def test_lexically_tricky_programs_keep_their_output(tmp_path, source, preset):
    original, obfuscated = tmp_path / "a.js", tmp_path / "b.js"
    original.write_text(source, newline="")
    obfuscated.write_text(obfuscate_source(source, preset, 9))
    assert run_node(obfuscated) == run_node(original)
