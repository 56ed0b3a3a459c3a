"""The CDK app (`app.py`) that instantiates every agent stack, and the `cdk.json` that runs it.

Both files must be byte-identical on any machine, so `cdk.json` names no
absolute interpreter path: it runs `schema-factory cdk-app`, our own console
script, which runs `app.py` with the interpreter schema-factory is installed in
(`factory/commands/cdk_app.py`), so the app finds `schema-factory[cdk]` whether or
not that virtual environment is active. `python3 app.py` would take whichever
`python3` is first on PATH.
"""

from __future__ import annotations

from factory import names
from factory.emit.python_source import render_python
from factory.emit.serialize import json_bytes
from factory.schema.model import CanonicalSchema

# The command the CDK CLI runs in generated/: app.py under the interpreter that has schema-factory.
APP_COMMAND = "schema-factory cdk-app"
# The oldest Node the README supports; jsii prints an end-of-life banner on it, which
# app.py silences (only for this major version, so a newer unsupported Node still warns).
SILENCED_EOL_NODE_VERSION = "20"


def emit_cdk_app(schemas: list[CanonicalSchema]) -> dict[str, bytes]:
    stacks = [
        {
            "module": names.stack_module(schema),
            "class_name": names.stack_class(schema),
            "construct_id": names.stack_construct_id(schema),
        }
        for schema in sorted(schemas, key=lambda s: s.extraction_name)
    ]
    # No "env" in the context: app.py defaults to dev itself, and a context value here
    # would shadow SCHEMA_FACTORY_ENV (only `-c env=...` could change it).
    cdk_json = {
        "app": APP_COMMAND,
        "watch": {"include": ["app.py", "stacks/**"]},
    }
    context = {"stacks": stacks, "silenced_node_version": SILENCED_EOL_NODE_VERSION}
    return {
        names.APP_PATH: render_python("app.py.jinja", context),
        names.CDK_JSON_PATH: json_bytes(cdk_json),
    }
