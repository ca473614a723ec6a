"""The loop from the command line: ``loopwise demo`` (the README's main job), then check,
step and report on the loop directory the demo leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import loopwise
from loopwise.cli import main


def test_demo_then_check_step_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--rows", "6000"]) == 0
    printed = capsys.readouterr().out
    assert "accuracy after it, with the loop" in printed
    assert (out / "report.html").stat().st_size > 10_000
    loop_dir = str(out / "loop")

    assert main(["check", loop_dir, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["champion_version"] >= 2  # the demo promoted at least one challenger

    assert main(["step", loop_dir, "--key", "cli-1"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["step", loop_dir, "--key", "cli-1"]) == 0
    assert json.loads(capsys.readouterr().out) == {**first, "repeated": True}  # idempotent per key

    html = tmp_path / "again.html"
    assert main(["report", loop_dir, "--html", str(html)]) == 0
    assert html.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_bad_loop_directory_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert "not a feedback-loop directory" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_cli(tmp_path):
    package_root = os.path.dirname(os.path.dirname(loopwise.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "loopwise", "--help"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0
    for command in ("demo", "check", "step", "report", "drift"):
        assert command in done.stdout
