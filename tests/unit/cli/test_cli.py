"""The ``chainkit`` command: help, errors, cheap imports, and the quickstart end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chainkit.cli import COMMANDS, main
from chainkit.cli.quickstart import SECTIONS

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CHAINKIT_MODEL", None)
    return subprocess.run(
        [sys.executable, "-m", "chainkit", *args],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: chainkit" in out
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", out, re.M), command
    assert "walk through the chat-model quickstart" in out


def test_quickstart_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quickstart", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--model SPEC" in out and "--max-tokens" in out


def test_unknown_command_exits_2_listing_valid_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err and "quickstart" in err


def test_no_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "a command is required: quickstart" in capsys.readouterr().err


def test_bad_option_value_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quickstart", "--max-tokens", "0"]) == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from chainkit import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"chainkit {__version__}"


def test_python_dash_m_help_and_unknown_command() -> None:
    ok = run_cli("--help")
    assert ok.returncode == 0 and "quickstart" in ok.stdout
    bad = run_cli("nope")
    assert bad.returncode == 2 and "choose from 'quickstart'" in bad.stderr


def test_importing_the_cli_is_cheap() -> None:
    code = (
        "import sys, chainkit.cli;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('pydantic', 'llama_cpp', 'httpx')"
        " or m.startswith(('chainkit.models', 'chainkit.messages'))];"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_a_failing_quickstart_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quickstart", "--model", "nope:x"]) == 1
    assert "unknown chat model provider 'nope'" in capsys.readouterr().err


FRENCH = re.compile(r"\b(je|j'|la|le|les|une?|de|programmation|programmer|aime|adore)\b", re.I)


@pytest.mark.integration
def test_quickstart_runs_every_section_on_the_local_model() -> None:
    result = run_cli("quickstart", timeout=240)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"Loading SmolLM2-135M-Instruct \(98 MB\)\.\.\. done in \d+\.\d\d s", out)
    positions = [out.find(f"=== {heading} ===") for heading in SECTIONS]
    missing = [h for h, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert not missing, missing
    assert positions == sorted(positions), "sections in order"
    first = out[positions[0]:positions[1]]
    assert "AIMessage(content=" in first and FRENCH.search(first), first
    assert "LLMResult(generations=[[ChatGeneration(" in out
    assert "'token_usage': {'prompt_tokens':" in out
    assert result.stderr == ""
