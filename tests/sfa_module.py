"""Reading a generated step-functions-agent stack module with `ast` (never importing it).

`resolve` turns an expression of the module into plain data: literals and
module constants to their values, `self.x` to what `x` was assigned,
`Fn.import_value(f"...")` to `("import", "<pattern>")`, f-strings to
patterns (`{self.env_name}` written `{env}`), `json.dumps(x)` to
`("json", x)`, anything else to `("expr", <source>)`. The contract and
equivalence tests compare those values with facts restated from the
existing repository.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

GENERATOR_CALL = "generate_unified_llm_agent_definition"


@dataclass
class StackModule:
    source: str
    tree: ast.Module

    @classmethod
    def parse(cls, source: str | bytes) -> StackModule:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        return cls(text, ast.parse(text))

    # --- where things are -------------------------------------------------------

    def constants(self) -> dict[str, ast.expr]:
        found: dict[str, ast.expr] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value
        return found

    def classes(self) -> list[ast.ClassDef]:
        return [node for node in self.tree.body if isinstance(node, ast.ClassDef)]

    def init(self) -> ast.FunctionDef:
        (cls,) = self.classes()
        return next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")

    def self_assignments(self) -> dict[str, ast.expr]:
        found: dict[str, ast.expr] = {}
        for node in ast.walk(self.init()):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                        found[target.attr] = node.value
        return found

    def local_assignments(self) -> dict[str, ast.expr]:
        found: dict[str, ast.expr] = {}
        for node in ast.walk(self.init()):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value
        return found

    def calls(self, name: str) -> list[ast.Call]:
        """Calls whose callee is `name` or `<anything>.name`."""
        out = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                func = node.func
                callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if callee == name:
                    out.append(node)
        return out

    def relative_imports(self) -> list[tuple[int, str, list[str]]]:
        return [
            (node.level, node.module or "", [alias.name for alias in node.names])
            for node in self.tree.body
            if isinstance(node, ast.ImportFrom) and node.level > 0
        ]

    # --- values -----------------------------------------------------------------

    def resolve(self, node: ast.expr | None) -> Any:
        if node is None:
            return None
        if isinstance(node, (ast.Constant, ast.UnaryOp)):
            return ast.literal_eval(node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.resolve(item) for item in node.elts]
        if isinstance(node, ast.Dict):
            return {self.resolve(k): self.resolve(v) for k, v in zip(node.keys, node.values)}
        if isinstance(node, ast.Name):
            constants = self.constants()
            if node.id in constants:
                return self.resolve(constants[node.id])
            local = self.local_assignments()
            if node.id in local:
                return self.resolve(local[node.id])
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            if node.attr == "env_name":
                return "{env}"
            assigned = self.self_assignments()
            if node.attr in assigned:
                return self.resolve(assigned[node.attr])
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(str(part.value))
                else:
                    value = self.resolve(part.value)  # type: ignore[attr-defined]
                    parts.append(value if isinstance(value, str) else "{" + ast.unparse(part.value) + "}")  # type: ignore[attr-defined]
            return "".join(parts)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return self.resolve(node.values[-1])  # `context or default`: the default
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "import_value":
                return ("import", self.resolve(node.args[0]))
            if isinstance(func, ast.Attribute) and func.attr == "dumps" and getattr(func.value, "id", "") == "json":
                return ("json", self.resolve(node.args[0]))
            if isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant):
                items = self.resolve(node.args[0])
                if isinstance(items, list) and all(isinstance(item, str) for item in items):
                    return func.value.value.join(items)
        return ("expr", ast.unparse(node))

    def keywords(self, call: ast.Call) -> dict[str, Any]:
        return {kw.arg: self.resolve(kw.value) for kw in call.keywords if kw.arg is not None}
