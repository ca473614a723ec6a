"""``dir(loopwise)`` and ``loopwise.__all__`` show the public API and nothing else."""

from __future__ import annotations

import loopwise


def test_dir_lists_only_public_names():
    names = dir(loopwise)
    for leaked in ("Any", "annotations", "importlib", "_LAZY", "_SUBMODULES"):
        assert leaked not in names
    assert {"FeedbackLoop", "TreeExplainer", "drift", "loop", "__version__"} <= set(names)


def test_every_name_in_all_resolves():
    for name in loopwise.__all__:
        assert getattr(loopwise, name) is not None
    assert not any(name.startswith("_") and name != "__version__" for name in loopwise.__all__)
