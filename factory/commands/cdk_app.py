"""`cdk-app`: the command `generated/cdk.json` names, so the CDK CLI runs `app.py` with our interpreter.

`cdk.json` must be byte-identical on every machine, so it cannot name an absolute
interpreter path; `python3 app.py` meant whichever `python3` came first on PATH,
right only while the virtual environment was active. `schema-factory` itself is a
console script bound to the interpreter it was installed into, so `cdk.json` runs
`schema-factory cdk-app` and this command replaces its own process with
`sys.executable app.py` (`os.execv`): the CDK CLI sees one ordinary process, its
exit status, and the cloud assembly it writes. No argument, environment variable or
file content becomes part of the command: the interpreter is `sys.executable` and the
file is the fixed name `app.py` in the working directory (docs/security.md).
POSIX only: on Windows `os.execv` starts a new process and returns its parent's status early.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from factory import names
from factory.errors import EXIT_USER_ERROR

APP_FILE = names.APP_PATH  # "app.py": what `generate` writes beside cdk.json


@click.command("cdk-app", hidden=True)
def cdk_app() -> int:
    """Run ./app.py with the Python that schema-factory is installed in (what generated/cdk.json runs).

    The CDK CLI calls this in generated/ (`npx cdk synth`, `diff`, `deploy`, ...): the
    app then finds schema-factory and aws-cdk-lib without an activated virtual
    environment. Takes no arguments; the exit status is app.py's own.
    """
    here = Path.cwd()
    if not (here / APP_FILE).is_file():
        click.echo(
            f"schema-factory cdk-app: no {APP_FILE} in {here} (run `schema-factory generate`, then run cdk from"
            " the generated directory: cd generated)",
            err=True,
        )
        return EXIT_USER_ERROR
    interpreter = sys.executable
    if not interpreter:
        click.echo("schema-factory cdk-app: Python cannot say which interpreter runs it (sys.executable is"
                   f" empty): run `python3 {APP_FILE}` with the environment where schema-factory is installed",
                   err=True)
        return EXIT_USER_ERROR
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(interpreter, [interpreter, APP_FILE])
    except OSError as err:
        click.echo(f"schema-factory cdk-app: cannot run {interpreter} {APP_FILE}: {err.strerror}", err=True)
    return EXIT_USER_ERROR
