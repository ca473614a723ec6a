"""Generated corruptions of a saved tree ensemble: from_dict, predict and TreeSHAP on each."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.ensemble import RandomForestClassifier

from _hostile_values import SWEEP, assert_clean
from loopwise.explain import TreeExplainer
from loopwise.models import TreeEnsemble

X = np.random.default_rng(0).normal(size=(60, 3))
INDEX_FIELDS = ["feature", "left", "right"]
FLOAT_FIELDS = ["threshold", "value", "cover"]
NOT_AN_INDEX = [-7, 10**6, 2**40, 2**70, 1.5, float("nan"), "x", None, [1]]
NOT_A_NUMBER = [float("nan"), float("inf"), -float("inf"), "x", None, [1.0], 1e308 * 10]


@pytest.fixture(scope="module")
def document():
    model = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, X[:, 0] + X[:, 1] > 0)
    return TreeEnsemble.from_model(model).to_dict()


def _use(doc):
    ensemble = TreeEnsemble.from_dict(doc)
    return ensemble.predict(X[:5]), TreeExplainer(ensemble)(X[:5]).values


@st.composite
def corruptions(draw, doc):
    """(field, new document, must_fail): one field of the document changed."""
    fields = doc["fields"]
    internal = [i for i, f in enumerate(fields["feature"]) if f >= 0]
    kind = draw(st.sampled_from(["index", "float", "cycle", "length", "whole", "valid_float"]))
    new = copy.deepcopy(doc)
    out = new["fields"]
    if kind == "index":
        field = draw(st.sampled_from(INDEX_FIELDS))
        node = draw(st.sampled_from(internal))
        out[field][node] = draw(st.sampled_from(NOT_AN_INDEX))
        return field, new, True
    if kind == "float":
        field = draw(st.sampled_from(FLOAT_FIELDS))
        node = draw(st.integers(0, len(out[field]) - 1))
        replacement = out[field][node] = draw(st.sampled_from(NOT_A_NUMBER))
        # A leaf's threshold is never read, and an infinite threshold is a real split (all
        # values one way; scikit-learn writes such splits); any other non-number is corrupt.
        # Likewise a split node's own value: predictions and TreeSHAP read the leaves' values.
        width = len(fields["value"]) // len(fields["feature"])
        unread = ((field == "threshold" and fields["feature"][node] < 0)
                  or (field == "value" and fields["feature"][node // width] >= 0))
        infinite_split = field == "threshold" and isinstance(replacement, float) and math.isinf(replacement)
        return field, new, not (unread or infinite_split)
    if kind == "cycle":
        field = draw(st.sampled_from(["left", "right"]))
        node = draw(st.sampled_from(internal))
        tree_start = max(o for o in fields["tree_offsets"] if o <= node)
        out[field][node] = draw(st.sampled_from([node, tree_start]))  # back to itself or its root
        return field, new, True
    if kind == "length":
        field = draw(st.sampled_from(INDEX_FIELDS + FLOAT_FIELDS + ["default_left", "missing_rule"]))
        out[field] = out[field][:-1] if draw(st.booleans()) else out[field] + [0]
        return field, new, True
    if kind == "whole":
        field = draw(st.sampled_from(sorted(out)))
        out[field] = draw(st.sampled_from([None, "x", {}, [[1]], -1, float("nan")]))
        return field, new, out[field] != fields[field]
    field = draw(st.sampled_from(["threshold", "value"]))
    node = draw(st.integers(0, len(out[field]) - 1))
    out[field][node] = draw(st.floats(-100, 100))  # another finite number: a different valid model
    return field, new, False


@SWEEP
@given(data=st.data())
def test_corrupt_documents(document, data):
    field, doc, must_fail = data.draw(corruptions(document))
    # A field that disagrees with another may be reported under either name: both are clear.
    names = ["data", "document", "fields", *document["fields"]]
    assert_clean(lambda: _use(doc), names, must_fail, f"fields[{field}]")
