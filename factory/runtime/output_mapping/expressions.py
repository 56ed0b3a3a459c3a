"""The small expression language of output mappings, compiled once (docs/runtime.md)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

import jmespath
from jmespath.exceptions import JMESPathError

from factory.runtime import bounded_parse, bounded_regex
from factory.runtime.value_checks import short_repr
from factory.runtime.vocabulary import FALSE_WORDS, TRUE_WORDS, parse_number

Function = Callable[[Any], Any]
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+\Z")


class OutputMappingConfigError(ValueError):
    """An output mapping that cannot work: `where` is its place, `detail` what is wrong and how to fix it."""

    def __init__(self, where: str, detail: str) -> None:
        self.where, self.detail = where, detail
        super().__init__(f"{where}: {detail}")


def place(base: str, *parts: str | int) -> str:
    """`output_mappings.web-agent.extraction_methods[0]`: keys dotted, odd keys quoted, indices bracketed."""
    text = base
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}"
        else:
            text += "[" + json.dumps(part) + "]"
    return text


# --- value functions -----------------------------------------------------------


def _to_number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip().replace(",", "").replace("£", "").replace("$", "").replace("€", "")
    try:
        number = parse_number(text)
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    lowered = str(value).strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


def parse_json_value(value: Any) -> Any:
    """JSON text parsed (None when it is not JSON); other values unchanged."""
    if isinstance(value, str):
        try:
            return bounded_parse.json_loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def search_lines(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match within one line, else over the whole text: a pattern written for one line
    (`Exchange: ([A-Z\\s]+)`) must not run on into the next line; one that spans lines still works."""
    match = bounded_regex.search(pattern, text)
    if match is None or "\n" not in match.group(0):
        return match
    for line in text[: bounded_regex.subject_limit(pattern)].splitlines():
        line_match = bounded_regex.search(pattern, line)
        if line_match is not None:
            return line_match
    return match


def pattern_parser(pattern: re.Pattern[str]) -> Function:
    def parse(value: Any) -> Any:
        if value is None:
            return None
        match = search_lines(pattern, _text_of(value))
        if not match:
            return None
        found = match.group(1) if pattern.groups else match.group(0)
        return found.strip() or None if isinstance(found, str) else None

    return parse


_LABELLED_LINE = re.compile(r"^[ \t>*_#•-]*([A-Za-z][^:=\n]{0,80}?)[ \t*_]*[:=](.*)$", re.MULTILINE)


def label_key(label: str) -> str:
    """`Download Speed` and `download_speed` meet at `download_speed`."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def labelled_values(text: str) -> dict[str, str]:
    """The `Label: value` lines of a text, first occurrence of each label kept."""
    values: dict[str, str] = {}
    for match in _LABELLED_LINE.finditer(text):
        key, value = label_key(match.group(1)), match.group(2).strip(" \t*_`")
        if key and value and key not in values:
            values[key] = value
    return values


def _labelled(field: str | None, where: str) -> Function:
    if not field:
        raise OutputMappingConfigError(
            where, "parse_text without a pattern needs a field to look up; " "write parse_text('Label: (.+)')"
        )
    key = label_key(field)

    def parse(value: Any) -> Any:
        return None if value is None else labelled_values(_text_of(value)).get(key)

    return parse


SIMPLE_FUNCTIONS: dict[str, Function] = {
    "strip": lambda value: value.strip() if isinstance(value, str) else value,
    "lower": lambda value: value.lower() if isinstance(value, str) else value,
    "to_number": _to_number,
    "to_bool": _to_bool,
    "json": parse_json_value,
}
PATTERN_FUNCTIONS = ("parse", "parse_text")
KNOWN_FUNCTIONS = (*PATTERN_FUNCTIONS, *SIMPLE_FUNCTIONS)
_CALL = re.compile(r"^\s*([a-z_]+)\s*\(\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")?\s*\)\s*\Z")


def compile_regex(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise OutputMappingConfigError(where, "the pattern must be a non-empty string")
    try:
        return bounded_regex.compile_bounded(pattern)
    except bounded_regex.UnsafePattern as exc:
        raise OutputMappingConfigError(where, str(exc)) from None
    except re.error as exc:
        raise OutputMappingConfigError(where, f"regex {pattern!r} does not compile: {exc}") from None


def compile_search(path: Any, where: str) -> Function:
    """A JMESPath, its nesting checked before the parser sees it, compiled as a function that gives None,
    never an error, on data it does not fit (length() raises on a null: that is a missing value)."""
    if not isinstance(path, str) or not path.strip():
        raise OutputMappingConfigError(where, "needs a JMESPath string")
    try:
        bounded_parse.check_expression_depth(path)
        compiled = jmespath.compile(path)
    except bounded_parse.ExpressionTooDeep as exc:
        raise OutputMappingConfigError(where, f"JMESPath {short_repr(path, 80)} is {exc}") from None
    except JMESPathError as exc:
        reason = " ".join(str(exc).split())
        raise OutputMappingConfigError(where, f"JMESPath {path!r} does not compile: {reason}") from None

    def search(value: Any) -> Any:
        try:
            return compiled.search(value)
        except JMESPathError:
            return None

    return search


def _pattern_function(name: str, argument: str | None, field: str | None, where: str) -> Function:
    if argument is None:
        if name == "parse_text":
            return _labelled(field, where)
        raise OutputMappingConfigError(
            where, f"{name}() needs a regex argument, e.g. {name}('Exchange: (.+)')"
        )
    return pattern_parser(compile_regex(argument, where))


def compile_transform(spec: Any, where: str, field: str | None = None) -> Function:
    """`"to_number"`, `"parse_text"` (labelled line) or `{"parse_text": "regex"}` -> a function."""
    if isinstance(spec, str) and spec in SIMPLE_FUNCTIONS:
        return SIMPLE_FUNCTIONS[spec]
    if isinstance(spec, str) and spec in PATTERN_FUNCTIONS:
        return _pattern_function(spec, None, field, where)
    if isinstance(spec, dict) and len(spec) == 1:
        name, argument = next(iter(spec.items()))
        if name in PATTERN_FUNCTIONS:
            return _pattern_function(name, argument if argument is not None else "", field, where)
    known = ", ".join([*SIMPLE_FUNCTIONS, "parse_text", "{parse_text: regex}"])
    raise OutputMappingConfigError(where, f"unknown transform {spec!r}; use one of {known}")


def compile_transforms(specs: Any, where: str, field: str | None = None) -> list[Function]:
    """One transform or a list of them, in order."""
    if specs is None:
        return []
    if not isinstance(specs, list):
        return [compile_transform(specs, where, field)]
    return [compile_transform(spec, place(where, index), field) for index, spec in enumerate(specs)]


_PIPELINE_TOKEN = re.compile(
    r"""'(?:\\.|[^\\'])*'?|"(?:\\.|[^\\"])*"?|`(?:\\.|[^\\`])*`?"""  # quoted (to the end if unclosed)
    r"""|\|\||\||[^|'"`]+""",  # `||`, `|`, other text
    re.S,
)


def split_pipeline(expression: str) -> list[str]:
    """Split on `|` outside quotes (a regex may contain `|`; JMESPath `||` is kept whole)."""
    parts, current = [], ""
    for token in _PIPELINE_TOKEN.findall(expression):
        if token == "|":
            parts.append(current.strip())
            current = ""
        else:
            current += token
    return [*parts, current.strip()]


def _source_step(source: str, bare: bool, where: str) -> Function | None:
    if source == "$":
        return None
    if source.startswith("$."):
        return compile_search(source[2:], where)
    if source.startswith("$["):
        return compile_search(source[1:], where)
    if bare and not source.startswith("$"):
        return compile_search(source, where)
    hint = "$, $.<path>" + (" or a JMESPath" if bare else "")
    raise OutputMappingConfigError(where, f"cannot read the source {source!r}; start with {hint}")


def compile_expression(
    expression: Any, where: str, *, field: str | None = None, bare: bool = False
) -> Function:
    """`$.content | parse('X: (.+)') | strip()` -> a function of the method's root; `bare` also accepts a
    JMESPath without `$` (`results[0].title`); `field` is for parse_text() without a pattern."""
    if not isinstance(expression, str) or not expression.strip():
        raise OutputMappingConfigError(
            where, "needs an expression string, e.g. \"$.content | parse('A: (.+)')\""
        )
    text = expression.strip()
    if not bare and not text.startswith("$"):
        raise OutputMappingConfigError(
            where, "expression must start with '$' (e.g. \"$.content | parse('A: (.+)')\")"
        )
    segments = split_pipeline(text)
    first_call = next((i for i, seg in enumerate(segments) if i > 0 and _CALL.match(seg)), len(segments))
    source = " | ".join(segments[:first_call])
    step = _source_step(source, bare, where)
    steps: list[Function] = [step] if step else []
    for call in segments[first_call:]:
        match = _CALL.match(call)
        if not match:
            raise OutputMappingConfigError(where, f"cannot read {call!r}; write name() or name('argument')")
        name, single, double = match.groups()
        argument = single if single is not None else double
        if argument is not None:
            argument = argument.replace("\\'", "'").replace('\\"', '"')
        if name in PATTERN_FUNCTIONS:
            steps.append(_pattern_function(name, argument, field, where))
        elif name in SIMPLE_FUNCTIONS and argument is None:
            steps.append(SIMPLE_FUNCTIONS[name])
        else:
            known = ", ".join(KNOWN_FUNCTIONS)
            raise OutputMappingConfigError(where, f"unknown function {name!r}; use one of {known}")

    def evaluate(root: Any) -> Any:
        value = root
        for function in steps:
            value = function(value)
            if value is None:
                return None
        return value

    return evaluate
