"""Every command printed in README.md, docs/*.md and the project's error messages, run as written.

The ```bash blocks are extracted and each command is classified:
- snakemake invocations run in a clean copy of the workflow in tmp; the demo ones are executed to the end.
  Runs on a real territory (``territory=france|metropole|dep-NN|reg-NN``), the ``mirror`` download and the
  cluster profile would take too long or need the network, so they become ``-n`` dry runs, with
  ``COWORKING_GEO_MIRROR`` pointing at the real mirror (skipped when the mirror is absent);
- python scripts (benchmarks) must parse their arguments (``--help`` exits 0); pytest invocations must
  collect the files they name;
- pip installs are skipped (the environment is already installed);
- shell helpers such as ``printf ... > file`` run as is in the workflow copy (a later command reads the file).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
REAL_TERRITORY = re.compile(r"^(france|metropole|dep-[0-9AB]{2,3}|reg-\d{2})$")
#: files whose string literals may print a command for the user (error and skip messages)
MESSAGE_FILES = [*sorted((REPO / "src" / "coworking_geo").rglob("*.py")), *sorted((REPO / "workflow" / "rules").glob("*.smk")),
                 *sorted((REPO / "tests").glob("test_*.py"))]


def _bash_blocks(path: Path) -> list[str]:
    """The ```bash fenced blocks of a Markdown file."""
    return re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _strip_comment(line: str) -> str:
    """``line`` without its trailing ``# comment`` (a ``#`` outside quotes that starts a word)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def _commands(block: str) -> list[str]:
    """One string per command of a bash block: continuation lines joined, comments dropped, ``&&`` split."""
    out: list[str] = []
    for line in block.replace("\\\n", " ").splitlines():
        command = _strip_comment(line).strip()
        out.extend(part.strip() for part in command.split(" && ") if part.strip())
    return out


def doc_commands() -> list[tuple[str, list[str]]]:
    """(``file:block``, commands) for every bash block of README.md and docs/*.md, in order."""
    found: list[tuple[str, list[str]]] = []
    for path in DOCS:
        for i, block in enumerate(_bash_blocks(path)):
            found.append((f"{path.relative_to(REPO)}:{i + 1}", _commands(block)))
    return found


def message_commands() -> list[tuple[str, list[str]]]:
    """The snakemake commands quoted in messages of the package, the rules and the tests' skip reasons."""
    pattern = re.compile(r"(snakemake (?:mirror |--)[^\"'()`\n]*)")
    found: list[tuple[str, list[str]]] = []
    for path in MESSAGE_FILES:
        if path.name == Path(__file__).name:
            continue
        text = re.sub(r"\"\s*\n\s*f?\"", "", path.read_text(encoding="utf-8"))  # join implicitly concatenated literals
        for match in pattern.findall(text):
            words = match.strip().rstrip(".:;,").split()
            while re.fullmatch(r"[a-z]+", words[-1]):  # the sentence goes on after the command ("... first")
                words.pop()
            command = " ".join(words)
            if "{" in command:  # an f-string: instantiate the placeholder with a real territory
                command = re.sub(r"\{[^}]*\}", "dep-61", command)
            found.append((f"{path.relative_to(REPO)}", [command]))
    return found


def _classify(words: list[str]) -> str:
    """One of snakemake, python, pytest, pip, shell."""
    head = words[0]
    if head == "snakemake":
        return "snakemake"
    if head in ("pytest",) or words[:3] == ["python", "-m", "pytest"]:
        return "pytest"
    if head == "pip" or words[:3] == ["python", "-m", "pip"]:
        return "pip"
    if head == "python":
        return "python"
    return "shell"


def _split_env(command: str) -> tuple[dict[str, str], list[str]]:
    words = shlex.split(command)
    env: dict[str, str] = {}
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    return env, words


def _snakemake_plan(words: list[str]) -> tuple[list[str], bool]:
    """The arguments to run and whether they are a dry run of a real or networked case."""
    args = words[1:]
    config = [a for a in args if "=" in a and not a.startswith("-")]
    territories = [a.split("=", 1)[1] for a in config if a.startswith("territory=")]
    # targets name their territory too: results/dep-61/report.html
    territories += [a.split("/")[1] for a in args if a.startswith(("results/", "data/processed/")) and a.count("/") > 1]
    real = any(REAL_TERRITORY.match(t) for t in territories)
    networked = "mirror" in args or "--profile" in args
    if real or networked:
        return ["-n", *args], True
    return args, False


def _workflow_copy(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    for folder in ("config", "workflow", "profiles"):
        shutil.copytree(REPO / folder, dest / folder)
    return dest


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run_command(command: str, cwd: Path, request: pytest.FixtureRequest) -> None:
    """Run one documented command as the rules of this module say; fail with its output."""
    env, words = _split_env(command)
    kind = _classify(words)
    if kind == "pip":
        return
    if kind == "shell":
        res = subprocess.run(["bash", "-c", command], cwd=cwd, env=_env(env), capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, f"{command!r} failed: {res.stderr[-2000:]}"
        return
    if kind == "python":
        script = REPO / words[1]
        assert script.is_file(), f"{command!r}: no such script {words[1]}"
        res = subprocess.run([sys.executable, str(script), "--help"], cwd=REPO, env=_env({}), capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0 and "usage" in res.stdout.lower(), f"{command!r}: --help failed: {res.stderr[-2000:]}"
        return
    if kind == "pytest":
        files = [w for w in words if w.endswith(".py")]
        for name in files:
            assert (REPO / name).is_file(), f"{command!r}: no such test file {name}"
        args = ["--collect-only", "-q", *files] if files else ["--help"]
        res = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=REPO, env=_env({}), capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, f"{command!r} failed: {res.stdout[-2000:]}"
        return
    args, dry = _snakemake_plan(words)
    if "--profile" in args:  # a cluster profile needs its executor plugin, which the README says to install
        profile = yaml.safe_load((cwd / args[args.index("--profile") + 1] / "config.yaml").read_text(encoding="utf-8"))
        executor = str(profile.get("executor", "local"))
        plugin = f"snakemake_executor_plugin_{executor.replace('-', '_')}"
        if executor not in ("local", "dryrun", "touch") and importlib.util.find_spec(plugin) is None:
            pytest.skip(f"{command!r} needs the executor plugin {plugin.replace('_', '-')} (not installed)")
    if dry:  # the `mirror` fixture skips with its reason when the real-data mirror is absent
        env["COWORKING_GEO_MIRROR"] = str(request.getfixturevalue("mirror"))
    res = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=_env(env), capture_output=True,
                         text=True, timeout=1800)
    assert res.returncode == 0, f"{command!r} (run as {shlex.join(args)}) failed:\n{(res.stdout + res.stderr)[-3000:]}"


def test_the_docs_hold_commands_of_every_kind() -> None:
    kinds = {_classify(_split_env(c)[1]) for _, cmds in doc_commands() for c in cmds}
    assert {"snakemake", "python", "pytest", "pip"} <= kinds
    assert len(message_commands()) >= 2, "the offline failure and the mirror messages print commands"


def test_every_snakemake_command_puts_its_targets_outside_config() -> None:
    """A target after ``--config k=v`` is read as a config item: it must come before --config."""
    for where, cmds in doc_commands() + message_commands():
        for command in cmds:
            _, words = _split_env(command)
            if _classify(words) != "snakemake" or "--config" not in words:
                continue
            after = words[words.index("--config") + 1:]
            items = after[:next((i for i, w in enumerate(after) if w.startswith("-")), len(after))]
            bad = [w for w in items if "=" not in w]
            assert not bad, f"{where}: {command!r} puts {bad} inside --config"


@pytest.mark.slow
@pytest.mark.parametrize(("where", "commands"), doc_commands() + message_commands(),
                         ids=[w for w, _ in doc_commands() + message_commands()])
def test_documented_commands_run_as_written(where: str, commands: list[str], tmp_path_factory: pytest.TempPathFactory,
                                            request: pytest.FixtureRequest) -> None:
    """Each block runs in order in one workflow copy shared by the module (the demo is built once)."""
    cwd = tmp_path_factory.getbasetemp() / "docs_workflow"
    if not (cwd / "Snakefile").exists():
        _workflow_copy(cwd)
    for command in commands:
        _run_command(command, cwd, request)
