"""Every public docstring example runs and prints what it says (numpy-style ``Examples``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import loopwise

matplotlib.use("Agg")

# Entry points that run a process or would start one; their examples are shown, not run.
_SKIP = {"loopwise.__main__"}


def _modules() -> list[str]:
    names = ["loopwise"]
    for info in pkgutil.walk_packages(loopwise.__path__, prefix="loopwise."):
        if info.name not in _SKIP:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={**vars(module)}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
