"""The deploy path works as docs/deploying.md writes it (issue #21).

The slow test walks the section on a fresh virtual environment: it installs this
checkout with the extra the page names, generates, and runs its synth
line exactly as written, with no network and no AWS credentials, then reads
cdk.out. The fast tests keep `pip install .` (no aws-cdk-lib) working and the
pins of the extra, package.json and the lock file in step.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import REPO, SCHEMAS_DIR

README = REPO / "README.md"
DEPLOYING = REPO / "docs" / "deploying.md"
# jsii writes the Node end-of-life banner; the CDK names every deprecated API it meets.
NOISE = re.compile(r"end-of-life|deprecated", re.IGNORECASE)


def deploy_block() -> list[str]:
    """The command lines of the first ```bash block of docs/deploying.md, comments removed."""
    block = DEPLOYING.read_text("utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def readme_line(word: str) -> str:
    (line,) = [line for line in deploy_block() if word in line]
    return line


def cdk_extra() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return [Requirement(spec) for spec in project["optional-dependencies"]["cdk"]]


def blocked_cdk_python(code: str) -> list[str]:
    """A python command that runs `code` as if aws-cdk-lib and constructs were not installed."""
    block = "import sys; sys.modules.update(aws_cdk=None, constructs=None, jsii=None)\n"
    return [sys.executable, "-c", block + code]


# ---------------------------------------------------------------- fast: pins and the no-extra install


def test_readme_installs_the_extra_that_pyproject_declares() -> None:
    install = readme_line("pip install")
    extras = re.findall(r"'\.\[([a-z]+)\]'", install)
    assert extras == ["cdk"], install
    assert {r.name for r in cdk_extra()} == {"aws-cdk-lib", "constructs"}
    test_extra = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]["test"]
    assert "schema-factory[cdk]" in test_extra, "the suite must test the versions the extra installs"


def test_installed_cdk_libraries_are_within_the_extra() -> None:
    for requirement in cdk_extra():
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed), f"{requirement.name} {installed} is not {requirement}"
        # An upper bound: the pinned CLI cannot read a newer aws-cdk-lib's cloud assembly.
        assert any(spec.operator == "<" for spec in requirement.specifier), f"{requirement} has no upper bound"


def test_cdk_cli_is_pinned_exactly_and_locked() -> None:
    package = json.loads((REPO / "package.json").read_text("utf-8"))
    pinned = package["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"aws-cdk {pinned!r} is a range, not a pin"
    lock = json.loads((REPO / "package-lock.json").read_text("utf-8"))
    assert lock["packages"][""]["devDependencies"]["aws-cdk"] == pinned
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == pinned
    assert "node" in package["engines"], "package.json states the Node it needs"


def test_generate_pins_the_same_cdk_cli_in_the_output_directory() -> None:
    """generated/package.json and its lock name the CLI this repository tests, so `npm ci` there installs
    exactly it and `npx cdk` runs it in a user's own project, never asking to install another."""
    ours = json.loads((REPO / "package-lock.json").read_text("utf-8"))
    package = json.loads((REPO / "generated" / "package.json").read_text("utf-8"))
    lock = json.loads((REPO / "generated" / "package-lock.json").read_text("utf-8"))
    pinned = json.loads((REPO / "package.json").read_text("utf-8"))["devDependencies"]
    assert package["devDependencies"] == pinned == lock["packages"][""]["devDependencies"]
    assert lock["packages"]["node_modules/aws-cdk"] == ours["packages"]["node_modules/aws-cdk"]  # version, integrity
    assert lock["name"] == package["name"] == lock["packages"][""]["name"]  # what `npm ci` requires


def test_plain_install_generates_checks_and_registers_without_aws_cdk(tmp_path: Path) -> None:
    """`pip install .` has no aws-cdk-lib: the CLI must never need it."""
    shutil.copytree(SCHEMAS_DIR, tmp_path / "schemas")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(REPO)
    for args in (
        ["generate"],
        ["check"],
        ["register", "--env", "local", "--backend", "sqlite", "--registry-file", "reg.sqlite"],
    ):
        result = subprocess.run(
            blocked_cdk_python("from factory.cli import main; main()") + args,
            cwd=tmp_path, env=env, capture_output=True, text=True,
        )
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    assert (tmp_path / "generated" / "app.py").is_file()
    assert (tmp_path / "reg.sqlite").is_file()


def test_factory_infra_names_the_extra_in_one_line() -> None:
    code = (
        "try:\n"
        "    import factory.infra.shared_stack\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    result = subprocess.run(blocked_cdk_python(code), cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("CdkNotInstalledError factory.infra needs aws-cdk-lib")
    assert "pip install 'schema-factory[cdk]'" in lines[0]


def test_readme_says_how_cdk_json_runs_the_app() -> None:
    """The deploy section names the command generated/cdk.json holds, so the two cannot drift."""
    from factory.emit.cdk_app import APP_COMMAND

    command = json.loads((REPO / "generated" / "cdk.json").read_text("utf-8"))["app"]
    assert command == APP_COMMAND
    section = DEPLOYING.read_text("utf-8")
    assert f"`{command}`" in section
    assert "python3 app.py" not in section


def assert_one_line_exit(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "schema-factory[cdk]" in result.stderr


def test_generated_app_names_the_extra_when_aws_cdk_is_missing() -> None:
    """What `npx cdk synth` shows when python3 has schema-factory but not the extra."""
    code = "import runpy; runpy.run_path('app.py', run_name='__main__')"
    result = subprocess.run(blocked_cdk_python(code), cwd=REPO / "generated", capture_output=True, text=True)
    assert_one_line_exit(result, "app.py: factory.infra needs aws-cdk-lib")


def test_generated_app_says_which_environment_to_activate(tmp_path: Path) -> None:
    """What `npx cdk synth` shows when python3 is an environment without schema-factory."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [bare / "bin" / "python", "app.py"], cwd=REPO / "generated", env=env, capture_output=True, text=True
    )
    assert_one_line_exit(result, f"app.py: schema-factory is not installed for {bare / 'bin' / 'python'}: activate")


# ---------------------------------------------------------------- slow: the README's synth, fresh venv


def run(command: list[str], env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{shlex.join(command)}:\n{result.stdout}{result.stderr}"


def offline_prefix() -> list[str]:
    """`unshare -rn` (no network at all) where the kernel allows it, else nothing."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


def fresh_venv(root: Path) -> Path:
    """A new venv that sees this interpreter's packages (no download), so only the install is new."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    if sys.prefix != sys.base_prefix:  # running inside a venv: --system-site-packages would skip it
        purelib = subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
        lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in sorted(outer))
        Path(purelib, "_outer_environment.pth").write_text(lines, "utf-8")
    return venv


def hermetic_env(venv: Path, home: Path) -> dict[str, str]:
    """The shell of someone with the venv activated, no AWS credentials and no checkout on sys.path."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "JSII_DEPRECATED")
    env = {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("AWS_", "CDK_"))
    }
    env.update(
        PATH=str(venv / "bin") + os.pathsep + env.get("PATH", ""),
        VIRTUAL_ENV=str(venv),
        HOME=str(home),
        AWS_EC2_METADATA_DISABLED="true",
        # If the network could not be removed, no request gets anywhere either.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )
    return env


@pytest.mark.slow
def test_readme_synth_builds_every_stack_offline_in_a_fresh_venv(tmp_path: Path) -> None:
    node_modules = REPO / "node_modules"
    assert (node_modules / ".bin" / "cdk").exists(), "the pinned CDK CLI is missing: run `npm ci` at the repo root"

    # A checkout without build output, installed with the extra the README names, offline.
    source = tmp_path / "source"
    for name in ("factory", "templates_src"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    (extra,) = re.findall(r"'\.\[([a-z]+)\]'", readme_line("pip install"))
    # Build as `pip install .` does (isolated, setuptools from the index or pip's cache), then
    # install the wheel with the extra offline: its requirements must be met by what is installed.
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "wheel"), str(source)],
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("schema_factory-*.whl")
    venv = fresh_venv(tmp_path)
    env = hermetic_env(venv, tmp_path / "home")
    prefix = offline_prefix()
    run(prefix + [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index", f"{wheel}[{extra}]"],
        env=env, cwd=tmp_path)

    # The project a user has: schemas, the repo's package.json and its installed CLI.
    project = tmp_path / "project"
    shutil.copytree(SCHEMAS_DIR, project / "schemas")
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO / name, project / name)
    (project / "node_modules").symlink_to(node_modules, target_is_directory=True)
    # generated/cdk.json runs `schema-factory cdk-app`: the console script the install put on the venv's bin.
    where = shutil.which("schema-factory", path=env["PATH"])
    assert where == str(venv / "bin" / "schema-factory"), f"schema-factory is {where}, not the fresh venv's"
    run(prefix + ["schema-factory", "generate"], env=env, cwd=project)

    synth = readme_line("cdk synth")
    assert synth.startswith("cd generated && npx cdk synth"), synth
    result = subprocess.run(
        prefix + ["bash", "-c", synth], env=env, cwd=project, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not NOISE.search(output), output

    # cdk.out holds the shared stack and one template per schema, each with its agent's state machine.
    env_name = shlex.split(synth)[-1].split("=", 1)[1]
    out = project / "generated" / "cdk.out"
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    stacks = {
        name: json.loads((out / artifact["properties"]["templateFile"]).read_text("utf-8"))
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    shared_name = f"schema-factory-shared-{env_name}"
    assert stacks.pop(shared_name)["Outputs"], "the shared stack exports what agent stacks import"
    records = sorted((project / "generated" / "registry" / "agents").glob("*.json"))
    agents = {json.loads(path.read_text("utf-8"))["agent_name"] for path in records}
    assert len(stacks) == len(agents) == len(list(SCHEMAS_DIR.glob("*.json"))), sorted(stacks)
    machines: set[str] = set()
    for name, template in stacks.items():
        (machine,) = [
            r["Properties"]["StateMachineName"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::StepFunctions::StateMachine"
        ]
        machines.add(machine)
        assert shared_name in manifest["artifacts"][name]["dependencies"], f"{name} must deploy after {shared_name}"
    assert machines == {f"{agent}-{env_name}" for agent in agents}

    # The environment variable the README offers instead of `-c env=...` reaches the app too; and the
    # app runs with schema-factory's interpreter even when another python3 comes first on PATH.
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "python3").write_text("#!/bin/sh\necho 'decoy python3 ran' >&2\nexit 99\n", "utf-8")
    (decoy / "python3").chmod(0o755)
    decoy_env = {**env, "SCHEMA_FACTORY_ENV": "qa", "PATH": f"{decoy}{os.pathsep}{env['PATH']}"}
    listed = subprocess.run(
        prefix + ["npx", "cdk", "ls"], env=decoy_env, cwd=project / "generated", capture_output=True, text=True,
        timeout=600,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert sorted(listed.stdout.split()) == sorted(name[: -len(env_name)] + "qa" for name in manifest["artifacts"]
                                                   if manifest["artifacts"][name]["type"] == "aws:cloudformation:stack")


QUIET_FLAGS = {"--quiet", "--no-audit", "--no-fund", "--loglevel=error"}


def ci_commands() -> list[list[str]]:
    """The commands of `.ci/run`, as a reader would type them: no `python3 -m`, no quiet flags."""
    commands = []
    for line in (REPO / ".ci" / "run").read_text("utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["python3", "-m"]:
            words = words[2:]
        if words and words[0] in ("pip", "npm", "pytest"):
            commands.append([word for word in words if word not in QUIET_FLAGS])
    return commands


def test_ci_installs_what_the_readme_installs_and_runs_the_full_suite() -> None:
    """`.ci/run` runs the README's second line's installs, then the README's full suite."""
    block = README.read_text("utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]
    setup, full = lines[1].split("&&"), lines[2]
    assert setup[-1].strip() == 'pytest -q -n auto -m "not slow"', lines[1]
    expected = [shlex.split(step) for step in setup[:-1]] + [shlex.split(full)]
    assert ci_commands() == expected
