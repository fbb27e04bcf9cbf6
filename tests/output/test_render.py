"""impt's JsonFormatter (commands.md §2.3, §2.4, §2.6)."""

from __future__ import annotations

import json

from imptsh.output import render
from imptsh.output.render import Corrupted, format_json, format_text, normalise, scalar_text

G = "\x1b[32m"
R = "\x1b[31m"
X = "\x1b[39m"

SPEC_EXAMPLE = {
    "Device Group": {
        "id": "dg-1",
        "type": "development",
        "name": "MyDG",
        "Product": {"id": "prod-1", "name": "MyProduct"},
    }
}


def test_spec_example_minimal_byte_exact() -> None:
    expected = (
        "Device Group: $\n"
        "  id:      dg-1$\n"
        "  type:    development$\n"
        "  name:    MyDG$\n"
        "  Product: $\n"
        "    id:   prod-1$\n"
        "    name: MyProduct$"
    ).replace("$", "")
    assert format_text(SPEC_EXAMPLE, minimal=True) == expected
    assert format_text(SPEC_EXAMPLE) == expected


def test_spec_example_colour_codes() -> None:
    expected = "\n".join(
        [
            f"{G}Device Group: {X}",
            f"  {G}id: {X}     dg-1",
            f"  {G}type: {X}   development",
            f"  {G}name: {X}   MyDG",
            f"  {G}Product: {X}",
            f"    {G}id: {X}  prod-1",
            f"    {G}name: {X}MyProduct",
        ]
    )
    assert format_text(SPEC_EXAMPLE, color=True) == expected


def test_alignment_counts_nested_keys_only_at_their_level() -> None:
    obj = {"X": {"a": 1, "a_much_longer_key": {"b": 2, "bb": 3}, "ccc": True}}
    assert format_text(obj) == (
        "X: \n"
        "  a:                 1\n"
        "  a_much_longer_key: \n"
        "    b:  2\n"
        "    bb: 3\n"
        "  ccc:               true"
    )


def test_empty_values_keep_alignment_padding_as_trailing_spaces() -> None:
    obj = {"X": {"id": "x1", "description": "", "region": None, "tags": []}}
    assert format_text(obj) == (
        "X: \n  id:          x1\n  description: \n  region:      \n  tags:        "
    )


def test_booleans_and_numbers() -> None:
    obj = {"D": {"device_online": False, "rssi": -51, "free_memory": 84720, "ratio": 1.5}}
    assert format_text(obj) == (
        "D: \n"
        "  device_online: false\n"
        "  rssi:          -51\n"
        "  free_memory:   84720\n"
        "  ratio:         1.5"
    )
    assert format_text({"n": 2.0}) == "n: 2"


def test_inline_list_join_default_and_minimal() -> None:
    obj = {"Deployment": {"id": "d1", "tags": ["t1", "t2", "t3"]}}
    assert format_text(obj) == "Deployment: \n  id:   d1\n  tags: t1, t2, t3"
    assert format_text(obj, minimal=True) == "Deployment: \n  id:   d1\n  tags: t1,t2,t3"
    assert format_text({"flags": [True, 1, None]}) == "flags: true, 1, "


def test_multiline_string_block() -> None:
    obj = {"Deployment": {"id": "d1", "device_code": "line 1\n  line 2\n\nend"}}
    assert format_text(obj) == (
        "Deployment: \n"
        "  id:          d1\n"
        "  device_code: \n"
        '    """\n'
        "      line 1\n"
        "        line 2\n"
        "      \n"
        "      end\n"
        '    """'
    )


def test_string_of_512_chars_is_not_cut_but_513_is() -> None:
    exact = "a" * 512
    assert format_text({"s": exact}) == "s: " + exact
    long = "b" * 513
    assert format_text({"s": long}) == 's: \n  """\n    ' + "b" * 512 + '\n    ...\n  """'


def test_truncation_only_in_text_modes() -> None:
    long = "c" * 600
    assert json.loads(format_json({"s": long})) == {"s": long}
    assert normalise({"s": long}, truncate=True) == {"s": "c" * 512 + "\n..."}
    assert normalise([long], truncate=True) == ["c" * 512 + "\n..."]


def test_list_of_maps_at_same_indentation_with_scalar_marker() -> None:
    obj = {
        "Device Group": {
            "id": "g",
            "Devices": [
                {"Device": {"id": "d1", "name": "one"}},
                {"Device": {"id": "d2"}},
                "... 3 more Device(s)",
            ],
        }
    }
    assert format_text(obj) == (
        "Device Group: \n"
        "  id:      g\n"
        "  Devices: \n"
        "    Device: \n"
        "      id:   d1\n"
        "      name: one\n"
        "    Device: \n"
        "      id: d2\n"
        "    ... 3 more Device(s)"
    )


def test_top_level_list_of_blocks() -> None:
    blocks = [{"Product": {"id": "p1", "name": "A"}}, {"Product": {"id": "p2", "name": "B"}}]
    assert format_text(blocks) == (
        "Product: \n  id:   p1\n  name: A\nProduct: \n  id:   p2\n  name: B"
    )


def test_top_level_empty_prints_nothing() -> None:
    assert format_text({}) == ""
    assert format_text([]) == ""
    assert format_json({}) == "{}"
    assert format_json([]) == "[]"


def test_empty_nested_map_is_a_header_without_lines() -> None:
    assert format_text({"G": {"id": "g", "env_vars": {}}}) == "G: \n  id:       g\n  env_vars: "


def test_empty_list_block_rule() -> None:
    # Normalisation turns every nested [] into "", so the "-" block is only reachable by
    # the renderer on non-normalised data (rule 4 of §2.3).
    assert format_text({"k": [[], "x"]}) == "k: , x"
    renderer = render._Renderer(minimal=False, color=False)
    renderer.block({"k": [{"a": 1}, []]}, 0, False)
    assert renderer.lines == ["k: ", "  a: 1", "  -"]


def test_corrupted_values_red_only_with_colour() -> None:
    obj = {"Device": {"id": "d1", "Corrupted Device Group": Corrupted(id="dg-gone")}}
    assert format_text(obj) == (
        "Device: \n  id:                     d1\n  Corrupted Device Group: \n    id: dg-gone"
    )
    assert format_text(obj, color=True) == "\n".join(
        [
            f"{G}Device: {X}",
            f"  {G}id: {X}                    d1",
            f"  {G}Corrupted Device Group: {X}",
            f"    {G}id: {X}{R}dg-gone{X}",
        ]
    )


def test_normalise() -> None:
    obj = {"a": None, "b": [], "c": [None, []], "d": {"e": None}, "f": False, "g": 0}
    assert normalise(obj, truncate=False) == {
        "a": "",
        "b": "",
        "c": ["", ""],
        "d": {"e": ""},
        "f": False,
        "g": 0,
    }
    assert normalise([], truncate=True) == []
    assert normalise(None, truncate=True) == ""
    kept = normalise({"x": Corrupted(id="1")}, truncate=True)
    assert isinstance(kept["x"], Corrupted)


def test_normalise_does_not_mutate_input() -> None:
    obj = {"a": [None], "b": {"c": None}}
    normalise(obj, truncate=True)
    assert obj == {"a": [None], "b": {"c": None}}


def test_format_json_like_json_stringify() -> None:
    obj = {
        "Deployment": {
            "id": "d1",
            "tags": ["t1"],
            "origin": None,
            "flagged": False,
            "empty": [],
            "n": 3.0,
            "text": "é\u001b\n",
        }
    }
    assert format_json(obj) == (
        "{\n"
        '  "Deployment": {\n'
        '    "id": "d1",\n'
        '    "tags": [\n'
        '      "t1"\n'
        "    ],\n"
        '    "origin": "",\n'
        '    "flagged": false,\n'
        '    "empty": "",\n'
        '    "n": 3,\n'
        '    "text": "é\\u001b\\n"\n'
        "  }\n"
        "}"
    )


def test_format_json_key_order_and_list() -> None:
    blocks = [{"Product": {"name": "B", "id": "p2"}}]
    assert format_json(blocks) == (
        '[\n  {\n    "Product": {\n      "name": "B",\n      "id": "p2"\n    }\n  }\n]'
    )


def test_scalar_text() -> None:
    assert scalar_text(True) == "true"
    assert scalar_text(None) == ""
    assert scalar_text(["a", "b"], minimal=True) == "a,b"
    assert scalar_text(["a", ["b", "c"]]) == "a, b,c"
    assert scalar_text(10.0) == "10"
