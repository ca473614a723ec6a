"""Under CI=true a skipped test fails the run, unless it was declared not applicable."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()

TESTS = '''
import pytest

def test_missing_extra():
    pytest.skip("extra missing")

def test_not_applicable():
    pytest.skip("not applicable: this estimator cannot fit NaN")

@pytest.mark.skipif(True, reason="no server")
def test_marked_skip():
    pass

@pytest.mark.xfail(reason="known gap")
def test_known_gap():
    assert False

def test_runs():
    assert True
'''


@pytest.mark.parametrize("ci", ["true", "1"])
def test_skips_fail_under_ci(pytester, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cases=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true*extra missing*"])


def test_module_level_importorskip_fails_under_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_needs_extra='''
import pytest
absent = pytest.importorskip("loopwise_no_such_module")

def test_uses_it():
    pass
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*collection skipped under CI=true*loopwise_no_such_module*"])


def test_skips_stay_skips_outside_ci(pytester, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cases=TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
