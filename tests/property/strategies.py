"""Hostile inputs, one strategy per input class: schema files, batch configs, CSVs, agent answers, special files.

Values that JSON or YAML writers cannot express (a number with 5,000 digits, nesting 20,000 deep) are
spliced into the text as raw fragments, so the files hold exactly what an attacker would write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.conftest import REPO

HOLE = "@@hostile@@"
CONTROL = "".join(map(chr, range(0, 32))) + "\x7f\x9b\u202e\u2028"

# Text that has broken a boundary somewhere: terminal escapes, newlines where a name ends, format and
# template syntax, shell syntax, a lone surrogate, a byte-order mark, a very long line.
NASTY_TEXT = [
    "\x1b[2J\x1b[31mred\x1b[0m",
    "1.0.0\n",
    "name\n",
    "a\r\nb",
    "\x00",
    "\u202eevil",
    "${HOME} $(id) `id`",
    "{0.__class__}",
    "{nosuch}",
    "{{x}}",
    "%s%n",
    "'\"\\",
    "\ud800",
    "\ufeffbom",
    "=cmd|' /C calc'!A0",
    "x" * 5000,
    "../../outside/secret.txt",
    "/dev/zero",
    "-",
    ".",
    "",
    " ",
]
hostile_text = st.one_of(
    st.sampled_from(NASTY_TEXT), st.text(alphabet=st.sampled_from(CONTROL + "ab{}$%\\'\""), max_size=30)
)
HUGE_NUMBERS = [
    "1e400",
    "-1e400",
    "1e-400",
    "1" + "0" * 5000,
    "-0",
    "123456789012345678901234567890.5",
    "NaN",
    "Infinity",
]
CATASTROPHIC = ["^(a+)+$", "(a|aa)+$", "(.*a){20}$", "^(\\w+\\s?)*$", "((a*)*)*b$", "(a|a?)+$"]


def deep_json(depth: int, opener: str = "[") -> str:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return '{"a":' * depth + "1" + closer * depth
    return opener * depth + closer * depth


def deep_groups(depth: int) -> str:
    return "(" * depth + "a" + ")" * depth


depths = st.sampled_from([100, 600, 2_000, 20_000])
raw_values = st.one_of(
    st.sampled_from(HUGE_NUMBERS),
    st.builds(deep_json, depths, st.sampled_from(["[", "{"])),
    hostile_text.map(lambda text: json.dumps(text)),
    st.sampled_from(CATASTROPHIC + ["(", "\\", "a{1000000}"]).map(json.dumps),
    st.builds(deep_groups, depths).map(json.dumps),
    st.sampled_from(["null", "[]", "{}", "true", '"string"', "-1", "0"]),
)

# --- schema files ---------------------------------------------------------------------------------------

BASE_SCHEMA = json.loads((REPO / "schemas" / "broadband_availability_bt_wholesale.json").read_text("utf-8"))
SCHEMA_PLACES = [
    ("extraction_name",),
    ("version",),
    ("description",),
    ("input_schema", "properties", "postcode", "pattern"),
    ("input_schema", "properties", "postcode"),
    ("input_schema",),
    ("output_schema", "properties", "fttp_avail"),
    ("output_schema", "properties", "alk", "maxLength"),
    ("browser_config", "timeout"),
    ("metadata", "tags"),
    ("input_schema", "properties", "postcode", "enum"),
    ("output_schema", "properties", "extra"),
]


def schema_text(place: tuple[str, ...], raw: str, name: str) -> str:
    """The bundled schema renamed to `name`, with the raw JSON fragment `raw` at `place`."""
    document = json.loads(json.dumps(BASE_SCHEMA))
    document["extraction_name"] = name
    node = document
    for key in place[:-1]:
        node = node.setdefault(key, {})
    node[place[-1]] = HOLE
    return json.dumps(document, indent=1).replace(json.dumps(HOLE), raw, 1)


WHOLE_FILES = [
    b"",
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"not json",
    b'{"a": 1, "a": 2}',
    b"[]",
    b"\x00" * 64,
    b"{" * 50_000,
    b'{"extraction_name": "x"' + b', "k": 1' * 20_000 + b"}",
]


@st.composite
def schema_files(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """1-4 schema files: the bundled schema with one hostile value, or a hostile file whole."""
    files = []
    for index in range(draw(st.integers(1, 4))):
        name = f"hostile_{index}"
        if draw(st.booleans()):
            text = schema_text(draw(st.sampled_from(SCHEMA_PLACES)), draw(raw_values), name)
            files.append((f"{name}.json", text.encode("utf-8", "surrogatepass")))
        else:
            files.append((f"{name}.json", draw(st.sampled_from(WHOLE_FILES))))
    return files


# --- batch configs --------------------------------------------------------------------------------------

BASE_CONFIG = yaml.safe_load(
    (REPO / "generated" / "batch_mappings" / "broadband_availability_bt_wholesale.yaml").read_text("utf-8")
)
# As `batch config` writes it for a CSV with these three columns.
BASE_CONFIG["input_mapping"]["column_mappings"] = {
    "Building Number": "building_number",
    "Street": "street",
    "Postcode": "postcode",
}


def alias_bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def config_with(edit: dict[str, Any], raw: str = "") -> str:
    config = json.loads(json.dumps(BASE_CONFIG))
    for key, value in edit.items():
        if key == "input_mapping":
            config["input_mapping"].update(value)
        else:
            config[key] = value
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True) + raw


def output_expression(expression: str) -> dict[str, Any]:
    return {"output_mappings": {"alk": [{"method": "direct", "expression": expression}]}}


config_edits = st.one_of(
    st.builds(
        lambda levels: config_with({}, "notes:\n  " + alias_bomb(levels).replace("\n", "\n  ")),
        st.integers(3, 9),
    ),
    st.builds(lambda depth: config_with({}, f"notes: {deep_json(depth)}\n"), depths),
    st.builds(
        lambda regex: config_with(output_expression(f"$.structured_output.alk | parse('{regex}')")),
        st.sampled_from(CATASTROPHIC),
    ),
    st.builds(
        lambda depth: config_with(
            output_expression(f"$.structured_output.alk | parse('{deep_groups(depth)}')")
        ),
        depths,
    ),
    st.builds(lambda depth: config_with(output_expression("$." + "(" * depth + "alk" + ")" * depth)), depths),
    st.builds(lambda text: config_with({"input_mapping": {"prompt_template": text}}), hostile_text),
    st.builds(
        lambda text: config_with(
            {
                "input_mapping": {
                    "transformations": [{"field": "street", "type": "template", "template": text}]
                }
            }
        ),
        hostile_text,
    ),
    st.builds(
        lambda depth: config_with(
            {
                "input_mapping": {
                    "transformations": [
                        {
                            "field": "street",
                            "type": "jsonpath",
                            "column": "Street",
                            "path": "$" + ".a" * depth,
                        }
                    ]
                }
            }
        ),
        depths,
    ),
    st.builds(lambda raw: config_with({}, f"input_mapping_extra: {raw}\n"), st.sampled_from(HUGE_NUMBERS)),
    st.builds(
        lambda text: config_with({"input_mapping": {"column_mappings": {text: "street"}}}), hostile_text
    ),
)

# --- CSV files ------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ["Building Number", "Street", "Postcode"]
cells = st.one_of(
    hostile_text,
    st.builds(deep_json, depths),
    st.sampled_from(["=1+1", "@SUM(A1)", "+1", "-1", "CB1 2AB", "1e400", "\t", '"', '""', "a,b", "a\nb"]),
    st.text(max_size=20),
)


class CsvFile(bytes):
    """A generated CSV's bytes, printed short: a 60,000-column file would make a failure report of megabytes."""

    def __repr__(self) -> str:
        text = bytes.__repr__(self)
        return text if len(text) <= 600 else f"{text[:500]}... ({len(self):,} bytes)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@st.composite
def csv_files(draw: st.DrawFn) -> CsvFile:
    """A CSV with hostile headers and cells, sometimes very wide, BOM-prefixed or not valid UTF-8."""
    import csv
    import io

    extra = draw(st.lists(hostile_text, max_size=4))
    wide = draw(st.sampled_from([0, 0, 5_000, 60_000]))
    header = REQUIRED_COLUMNS[: draw(st.integers(2, 3))] + extra + [f"c{index}" for index in range(wide)]
    if wide:
        rows = [["1"] * len(header)]
    else:
        cells_per_row = st.lists(cells, min_size=len(header) - 1, max_size=len(header) - 1)
        rows = [[str(number), *draw(cells_per_row)] for number in range(1, draw(st.integers(1, 4)) + 1)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", "surrogatepass")
    damage = draw(st.sampled_from(["", "", "bom", "invalid", "nul", "cr"]))
    if damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "invalid":
        data = data.replace(b"1", b"\xff\xfe1", 1)
    elif damage == "nul":
        data = data.replace(b"\n", b"\x00\n", 1)
    elif damage == "cr":
        data = data.replace(b"\n", b"\r")
    return CsvFile(data)


# --- agent answers --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
structured = st.fixed_dictionaries(
    {"success": st.one_of(st.booleans(), json_values), "fttp_avail": st.one_of(st.booleans(), json_values)},
    optional={
        "alk": json_values,
        "metadata": json_values,
        "soadsl_dsl_speed": json_values,
        "exchange_code": hostile_text,
    },
)
answers = st.one_of(
    st.builds(lambda body: {"kind": "value", "value": {"structured_output": body}}, structured),
    st.builds(lambda value: {"kind": "value", "value": value}, json_values),
    st.builds(lambda depth: {"kind": "deep", "depth": depth}, depths),
    st.builds(lambda digits: {"kind": "bignum", "digits": digits}, st.sampled_from([20, 400, 5_000])),
    st.sampled_from(
        [
            {"kind": "raise", "text": "\x1b[2Jboom\ud800"},
            {"kind": "exit", "code": 0},
            {"kind": "hang"},
            {"kind": "opaque"},
            {"kind": "set"},
            {"kind": "exit", "code": "text"},
        ]
    ),
)
answer_lists = st.lists(answers, min_size=1, max_size=6)

# --- special files --------------------------------------------------------------------------------------

SPECIAL_PLACES = ["schema", "config", "csv", "out", "results_tmp", "store", "batch_mapping"]
SPECIAL_KINDS = [
    "fifo",
    "link_dev_zero",
    "link_outside_file",
    "link_outside_dir",
    "dangling_link_outside",
    "directory",
]
special_files = st.tuples(st.sampled_from(SPECIAL_PLACES), st.sampled_from(SPECIAL_KINDS))


def plant(kind: str, path: Path, outside: Path) -> None:
    """Put the special file `kind` at `path` (replacing what is there)."""
    import os

    if path.is_symlink() or path.is_file():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "link_outside_file":
        path.symlink_to(outside / "secret.txt")
    elif kind == "link_outside_dir":
        path.symlink_to(outside / "victim")
    elif kind == "dangling_link_outside":
        path.symlink_to(outside / "created-through-a-link")
    else:
        path.mkdir()
