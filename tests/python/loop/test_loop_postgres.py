"""A feedback loop whose store lives on a PostgreSQL server (issue 17, item 1): the URL is
saved in the loop's configuration, a new process reopens the same store, two processes log to
it at once, and the shadow store gets a schema of its own.

Expected values are the rows the test logged itself; the server is the session's throwaway
cluster (conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from pg_cluster import schema_url as postgres_schema_url
from loopwise.loop import FeedbackStore, config as loop_config
from loopwise.loop.feedback_loop import FeedbackLoop


def _data(seed: int = 0, n: int = 400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)


def _env() -> dict:
    import loopwise

    root = os.path.dirname(os.path.dirname(os.path.abspath(loopwise.__file__)))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, *[p for p in sys.path if p]])}


def test_the_store_url_is_saved_and_a_new_process_reopens_it(tmp_path, postgres_url):
    url = postgres_schema_url(postgres_url)
    X, y = _data()
    loop = FeedbackLoop(tmp_path / "loop", model=LogisticRegression().fit(X, y), reference=X, reference_labels=y,
                        store=url)
    loop.predict(X[:50], ids=[f"a{i}" for i in range(50)])
    loop.close()
    assert loop_config.read(str(tmp_path / "loop")).store == url
    assert not os.path.exists(tmp_path / "loop" / "store.db")  # nothing logged locally

    code = textwrap.dedent(f"""
        import sys, numpy as np
        from loopwise.loop.feedback_loop import FeedbackLoop
        loop = FeedbackLoop(sys.argv[1])  # no store=: the saved URL
        X = np.random.default_rng(int(sys.argv[2])).normal(size=(30, 3))
        loop.predict(X, ids=[f"{{sys.argv[2]}}-{{i}}" for i in range(30)])
        print(loop.store.path)
        loop.close()
    """)
    children = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "loop"), str(seed)], env=_env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    for child in children:  # two processes serve the loop at once
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-3000:]
        assert out.strip() == url
    with FeedbackStore(url) as store:
        ids = set(store.predictions()["id"])
    assert ids == {f"a{i}" for i in range(50)} | {f"{s}-{i}" for s in (1, 2) for i in range(30)}
    with FeedbackLoop(tmp_path / "loop") as reopened:
        reopened.feedback([f"a{i}" for i in range(50)], y[:50])
        assert reopened.store.counts()["labeled"] == 50
        assert reopened.shadow_store.path.endswith("_shadow")
    saved = json.loads((tmp_path / "loop" / loop_config.CONFIG_FILE).read_text())
    assert saved["store"] == url


def test_another_store_url_on_reopening_raises_and_passwords_are_refused(tmp_path, postgres_url):
    url = postgres_schema_url(postgres_url)
    X, y = _data()
    FeedbackLoop(tmp_path / "loop", model=LogisticRegression().fit(X, y), store=url).close()
    with pytest.raises(ValueError, match="store"):
        FeedbackLoop(tmp_path / "loop", store=postgres_schema_url(postgres_url))
    with pytest.raises(ValueError, match="password"):
        FeedbackLoop(tmp_path / "other", model=LogisticRegression().fit(X, y),
                     store="postgresql://me:secret@127.0.0.1:1/db")
    with pytest.raises(ValueError, match="postgresql://"):
        FeedbackLoop(tmp_path / "third", model=LogisticRegression().fit(X, y), store="mysql://me@host/db")
