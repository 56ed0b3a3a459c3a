"""Issue #22: repository data never becomes a command (docs/security.md lists each boundary and its test)."""

from __future__ import annotations

import ast
import hashlib
import json
import shlex
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner, Result

from factory.batch.invokers import is_state_machine_arn, make_invoker, record_invoke_spec
from factory.batch.plan import RunRequest, resume_command
from factory.cli import main
from factory.errors import FactoryError
from factory.generation import generate_to_disk
from tests.batch.test_local_engine import write_addresses

AGENT = "broadband_availability_bt_wholesale"
RECORD = "generated/registry/agents/broadband-availability-bt-wholesale-agent.json"
MAPPING = "generated/batch_mappings/broadband_availability_bt_wholesale.yaml"


@pytest.fixture
def generated(bundled_project: Path) -> Path:
    """A scratch project (cwd) with every bundled schema generated into generated/."""
    generate_to_disk([], Path("generated"))
    return bundled_project


def edit_record(project: Path, change: dict, *, forge_manifest: bool = False) -> None:
    """What a pull request can do: change the record, and (harder to spot) its hash in the manifest too."""
    path = project / RECORD
    record = json.loads(path.read_text("utf-8"))
    record.update(change)
    path.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    if forge_manifest:
        manifest_path = project / "generated" / "MANIFEST.json"
        manifest = json.loads(manifest_path.read_text("utf-8"))
        rel = RECORD.removeprefix("generated/")
        manifest["files"][rel]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def run(project: Path, *extra: str) -> Result:
    csv_path = write_addresses(project / "addresses.csv", 5)
    return CliRunner().invoke(main, ["batch", "run", str(csv_path), "--agent", AGENT, "--store",
                                     str(project / "store.sqlite"), "--quiet", *extra])


def test_the_issue_reproduction_stops_before_any_agent_call(generated: Path) -> None:
    """The attack of issue #22: an `invoke` added to a generated record; the run must not execute it."""
    marker = generated / "pwned"
    edit_record(generated, {"invoke": f"exec:sh -c \"touch {marker}; python3 examples/example_agent.py\""})
    result = run(generated)
    assert result.exit_code == 1
    assert not marker.exists()
    assert f"{RECORD}: edited: edited by hand" in result.stderr
    assert "fix: put the change in schemas/broadband_availability_bt_wholesale.json" in result.stderr
    assert "started" not in result.stderr, "no batch began"


def test_a_forged_manifest_still_runs_nothing_from_the_record(generated: Path) -> None:
    """Record and manifest edited together pass the hash test; the record is still never a command."""
    marker = generated / "pwned"
    edit_record(generated, {"invoke": f"exec:touch {marker}"}, forge_manifest=True)
    result = run(generated)
    assert result.exit_code == 1 and not marker.exists()
    assert "has no state_machine_arn" in result.stderr and "--invoke" in result.stderr


@pytest.mark.parametrize("value", [f"exec:touch MARKER", "examples.example_agent:invoke", "https://evil.example/x",
                                   "arn:aws:states:us-east-1:123456789012:stateMachine:a;touch MARKER",
                                   "arn:aws:lambda:us-east-1:123456789012:function:f", 42])
def test_a_record_names_only_a_state_machine_arn(generated: Path, value: object) -> None:
    edit_record(generated, {"state_machine_arn": value}, forge_manifest=True)
    result = run(generated)
    assert result.exit_code == 1 and not (generated / "MARKER").exists()
    assert "state_machine_arn is not a state machine ARN" in result.stderr


def test_a_hand_edited_mapping_stops_the_stepfunctions_engine_too(generated: Path) -> None:
    mapping = generated / MAPPING
    mapping.write_text(mapping.read_text("utf-8") + "# edited\n", "utf-8")
    result = run(generated, "--engine", "stepfunctions", "--region", "us-east-1")
    assert result.exit_code == 1
    assert f"{MAPPING}: edited: " in result.stderr


def test_no_manifest_no_run(generated: Path) -> None:
    (generated / "generated" / "MANIFEST.json").unlink()
    result = run(generated, "--invoke", "examples.example_agent:invoke")
    assert result.exit_code == 1 and "no readable manifest" in result.stderr


def test_a_record_name_cannot_lead_outside_the_output_directory(generated: Path) -> None:
    """The record's extraction_name picks the mapping file: it is checked as a name before it is a path."""
    edit_record(generated, {"extraction_name": "../../schemas/x"}, forge_manifest=True)
    result = CliRunner().invoke(main, ["batch", "analyze", "x.csv", "--agent", "broadband-availability-bt-wholesale-agent"])
    assert result.exit_code == 1 and "not an extraction name" in result.stderr


def test_a_symlinked_record_is_refused(generated: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    path = generated / RECORD
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    result = run(generated, "--invoke", "examples.example_agent:invoke")
    assert result.exit_code == 1 and "resolves outside the output directory" in result.stderr


def test_the_fast_path_imports_nothing_of_the_generator(generated: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys; from pathlib import Path; from factory.batch.agents import resolve_agent; "
            f"resolve_agent({AGENT!r}, Path('generated')); "
            "print(sorted(m for m in ('jinja2', 'black', 'pydantic', 'jsonschema', 'factory.generation') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=generated, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


HOSTILE = ["exec:sh -c 'touch /tmp/x'", "a'b\"c", "$(touch /tmp/x)", "`id`", "x; rm -rf ~", "line\nbreak",
           "--store", "", " spaced out ", "日本語:f"]


@pytest.mark.parametrize("spec", HOSTILE)
def test_the_resume_command_round_trips_through_shlex(spec: str) -> None:
    request = RunRequest(invoke=spec or None, store_path=Path(f"dir with 'quote/{spec}.sqlite"),
                         generated_dir=Path(f"gen {spec}"))
    line = resume_command("tool#local-20260101T000000-abc123", request)
    argv = shlex.split(line)
    expected = ["schema-factory", "batch", "run", "--resume", "tool#local-20260101T000000-abc123",
                "--store", f"dir with 'quote/{spec}.sqlite", "--generated", f"gen {spec}"]
    assert argv == expected + (["--invoke", spec] if spec else [])


def test_arn_rule() -> None:
    assert is_state_machine_arn("arn:aws:states:eu-west-2:123456789012:stateMachine:agent-dev")
    assert is_state_machine_arn("arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:a_b")
    for bad in ("arn:aws:states:eu-west-2:123456789012:stateMachine:a\n", "arn:aws:states::1:stateMachine:a",
                "arn:aws:states:eu-west-2:123456789012:execution:a:b", None, ["arn"]):
        assert not is_state_machine_arn(bad)
    with pytest.raises(FactoryError, match="has no state_machine_arn"):
        record_invoke_spec({"agent_name": "a"}, "rec")
    with pytest.raises(FactoryError, match="not a state machine ARN"):
        make_invoker("arn:aws:states:us-east-1:1:stateMachine:x")


# -- the audit, pinned: every place code could run data is listed here and in docs/security.md -------------

FACTORY = Path(__file__).resolve().parents[2] / "factory"
# module -> why it may: each entry is a row of docs/security.md.
ALLOWED_IMPORTS = {
    "subprocess": {"factory/batch/invokers.py", "factory/check/versions.py"},
    "importlib": {"factory/batch/invokers.py", "factory/schema/loader.py", "factory/project_files.py",
                  "factory/infra/batch_processor.py"},
    "http.client": {"factory/batch/invokers.py"},
    "urllib.request": set(), "requests": set(), "pickle": set(),
    # plan_cache keys compiled plans by marshal.dumps of the config; nothing ever loads marshal data
    "marshal": {"factory/runtime/plan_cache.py"}, "shelve": set(), "runpy": set(),
}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "system", "popen", "unsafe_load", "full_load"}
# os functions that start or replace a process -> the modules that may call them (rows of docs/security.md).
OS_PROCESS_CALLS = ("exec", "spawn", "posix_spawn", "fork", "startfile")
# cdk-app (what generated/cdk.json runs): only sys.executable with the fixed file name app.py.
ALLOWED_OS_PROCESS_CALLS = {"factory/commands/cdk_app.py": {"execv"}}


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(FACTORY.rglob("*.py")):
        rel = path.relative_to(FACTORY.parent).as_posix()
        yield rel, ast.parse(path.read_text("utf-8"), rel)


def test_only_the_audited_modules_can_start_processes_import_code_or_fetch_urls() -> None:
    found: dict[str, set[str]] = {name: set() for name in ALLOWED_IMPORTS}
    for rel, tree in _sources():
        for node in ast.walk(tree):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                for watched in ALLOWED_IMPORTS:
                    if name == watched or name.startswith(watched + "."):
                        found[watched].add(rel)
    assert {k: v - ALLOWED_IMPORTS[k] for k, v in found.items() if v - ALLOWED_IMPORTS[k]} == {}


def test_only_the_cdk_app_command_starts_or_replaces_a_process_through_os() -> None:
    """subprocess is audited by import; os.exec*/spawn*/fork are audited by call, since every module may import os."""
    found: dict[str, set[str]] = {}
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "os":
                name = node.attr
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                name = next((alias.name for alias in node.names if alias.name.startswith(OS_PROCESS_CALLS)), "")
            else:
                continue
            if name.startswith(OS_PROCESS_CALLS):
                found.setdefault(rel, set()).add(name)
    assert found == ALLOWED_OS_PROCESS_CALLS


def test_cdk_app_runs_only_this_interpreter_on_the_fixed_app_file() -> None:
    """The one os.execv: its arguments are sys.executable and the constant app.py, nothing from a user."""
    from factory.commands import cdk_app

    assert cdk_app.APP_FILE == "app.py"
    tree = ast.parse((FACTORY / "commands" / "cdk_app.py").read_text("utf-8"))
    (call,) = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.execv"]
    assert ast.unparse(call) == "os.execv(interpreter, [interpreter, APP_FILE])"
    (assign,) = [node for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and [ast.unparse(t) for t in node.targets] == ["interpreter"]]
    assert ast.unparse(assign.value) == "sys.executable"
    assert cdk_app.cdk_app.params == [], "no argument or option can reach the command"


def test_marshal_only_writes_cache_keys() -> None:
    """marshal.loads would run on bytes we made, but keep it out altogether: only dumps is ever called."""
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "marshal":
                assert node.attr == "dumps", f"{rel}:{node.lineno}: marshal.{node.attr}"


def test_no_eval_exec_shell_or_unsafe_yaml() -> None:
    bad = []
    for rel, tree in _sources():
        safe_names = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                      and "SafeLoader" in ast.unparse(node.value) and "Unsafe" not in ast.unparse(node.value)
                      for target in node.targets if isinstance(target, ast.Name)}
        safe_bases = {"yaml.SafeLoader", "SafeLoader"}
        classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        for _ in classes:  # a subclass of a safe loader class in the same file is safe too
            safe_bases |= {node.name for node in classes if any(ast.unparse(base) in safe_bases for base in node.bases)}
        safe_names |= safe_bases - {"yaml.SafeLoader", "SafeLoader"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in FORBIDDEN_CALLS and not (name == "compile" and isinstance(func, ast.Attribute)):
                    bad.append(f"{rel}:{node.lineno}: {name}()")
                if name == "load" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "yaml":
                    loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
                    text = ast.unparse(loader) if loader is not None else ""
                    if not (text in safe_names or text in ("yaml.SafeLoader", "yaml.CSafeLoader")):
                        bad.append(f"{rel}:{node.lineno}: yaml.load without a safe loader")
                for keyword in node.keywords:
                    if keyword.arg == "shell" and not (isinstance(keyword.value, ast.Constant) and not keyword.value.value):
                        bad.append(f"{rel}:{node.lineno}: shell=")
    assert bad == []


def test_the_exec_agent_never_goes_through_a_shell(tmp_path: Path) -> None:
    """`exec:` from --invoke is split like a shell would, but run without one: metacharacters stay text."""
    from factory.batch.invokers import SubprocessInvoker

    marker = tmp_path / "marker"
    invoker = SubprocessInvoker(f"echo {{}} ; touch {marker}")
    assert invoker.argv == ["echo", "{}", ";", "touch", str(marker)]
    with pytest.raises(Exception):
        invoker({"data": {}}, timeout=5)  # echo prints its arguments, not JSON, and exits
    invoker.close()
    assert not marker.exists()


def test_the_security_notes_list_every_boundary() -> None:
    notes = (FACTORY.parent / "docs" / "security.md").read_text("utf-8")
    for test in ("test_the_issue_reproduction_stops_before_any_agent_call", "test_a_record_names_only_a_state_machine_arn",
                 "test_only_the_audited_modules_can_start_processes_import_code_or_fetch_urls",
                 "test_no_eval_exec_shell_or_unsafe_yaml", "test_model_input_names_neither_code_nor_files_outside_the_root",
                 "test_the_resume_command_round_trips_through_shlex", "test_a_record_name_cannot_lead_outside_the_output_directory"):
        assert test in notes
    assert "test_only_the_cdk_app_command_starts_or_replaces_a_process_through_os" in notes
    for modules in [*ALLOWED_IMPORTS.values(), ALLOWED_OS_PROCESS_CALLS]:
        for rel in modules:
            assert rel in notes, f"{rel} is allowed a boundary import but docs/security.md does not say why"


def test_a_hostile_batch_id_is_only_a_value(tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    for batch_id in ("x' OR '1'='1", "x\"; DROP TABLE batches; --"):
        result = CliRunner().invoke(main, ["batch", "status", batch_id, "--store", store])
        assert result.exit_code == 1 and "no batch" in result.stderr
    listed = CliRunner().invoke(main, ["batch", "status", "--store", store, "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
