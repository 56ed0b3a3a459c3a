"""What `generate` says and does after writing, for the step-functions-agent form.

The existing repository's app.py must import and instantiate each new stack:
`generate` prints exactly those lines, or with `--edit-app` adds the missing
ones itself.
"""

from __future__ import annotations

from pathlib import Path

import click

from factory.generation import GenerateResult
from factory.project_config import STEP_FUNCTIONS_AGENT


def after_generate(result: GenerateResult, out_dir: Path, edit_app: bool) -> None:
    if result.form.form != STEP_FUNCTIONS_AGENT:
        if edit_app:
            raise click.UsageError("--edit-app applies to the step-functions-agent form only")
        return
    from factory.app_edit import APP_FILE, edit_app as apply_edit
    from factory.emit.sfa_agent_stack import app_lines

    wanted = [
        app_lines(item.schema) for item in sorted(result.schemas, key=lambda i: i.schema.extraction_name)
    ]
    app_display = (out_dir / APP_FILE).as_posix()
    if edit_app:
        edit = apply_edit(out_dir, wanted)
        for line in edit.added_imports:
            click.echo(f"{app_display}: added {line}")
        for name in edit.added_stacks:
            click.echo(f"{app_display}: added {name}(...) before app.synth()")
        if not edit.changed:
            click.echo(f"{app_display}: already has every stack")
        return
    click.echo(
        f"form {STEP_FUNCTIONS_AGENT} ({result.form.origin}): add to {app_display}, or rerun with --edit-app:"
    )
    for item in wanted:
        click.echo(item.import_line)
    for item in wanted:
        click.echo("# in main(), before app.synth():")
        for line in item.block:
            click.echo(line)
