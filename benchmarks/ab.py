"""A/B decisions under continuous peeking: false positives and power, mSPRT vs t-tests.

Each row simulates 1,000 experiments on a 0/1 outcome (the champion's rate 0.80) with a look
after each of 20 batches of 500 rows (horizon 10,000 rows), alpha = 0.05, through
``loopwise.loop.ab.simulate`` (the same statistic as ``ABTest``). Columns:

- always-valid (mSPRT): share of experiments the mixture SPRT rejected at any look;
- naive peeking: share where Welch's test had p < alpha at any look (stopping at the first);
- fixed horizon: share where Welch's test rejects at the horizon only (one look, planned n);
- mSPRT stop: mean rows to the mSPRT's decision, as a share of the horizon (rejecting runs).

Under the null (equal rates) the first two columns are false-positive rates; otherwise power.

Usage: PYTHONPATH=python python benchmarks/ab.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import header, table, write_result  # noqa: E402
from loopwise.loop.ab import simulate  # noqa: E402

CASES = [  # (challenger rate, challenger share, mixture effect size in SDs)
    (0.80, 0.5, 0.1), (0.80, 0.2, 0.1), (0.80, 0.5, 0.05), (0.80, 0.5, 0.2),
    (0.81, 0.5, 0.1), (0.82, 0.5, 0.1), (0.83, 0.5, 0.1), (0.85, 0.5, 0.1),
    (0.82, 0.5, 0.05), (0.82, 0.5, 0.2), (0.83, 0.2, 0.1),
]


def main() -> int:
    rows = []
    for p_challenger, share, effect_size in CASES:
        out = simulate(p_champion=0.80, p_challenger=p_challenger, share=share, effect_size=effect_size,
                       n_runs=1000, n_batches=20, batch_size=500, alpha=0.05, random_state=2026)
        kind = "null: false positives" if p_challenger == 0.80 else f"+{(p_challenger - 0.80) * 100:.0f} pt: power"
        stop = "n/a" if out["msprt_mean_stop"] is None else f"{out['msprt_mean_stop']:.2f}"
        rows.append([f"0.80 vs {p_challenger:.2f}", kind, share, effect_size, f"{out['msprt']:.3f}",
                     f"{out['naive_peeking']:.3f}", f"{out['fixed_horizon']:.3f}", stop])
    text = "\n".join([
        header("A/B tests: always-valid mSPRT vs t-tests under peeking after every batch"),
        "1,000 simulated experiments per row; a 0/1 outcome; a look after each of 20 batches of 500 rows "
        "(horizon 10,000 rows); alpha = 0.05. Peers: Welch's test stopped at the first look with p < alpha "
        "(naive peeking) and Welch's test at the planned horizon only (fixed horizon; cannot stop early). "
        "Null rows: false-positive rates (target: mSPRT <= alpha + 0.01). Other rows: power. "
        "mSPRT stop = mean rows to its decision as a share of the horizon.\n",
        table(rows, ["rates", "case", "challenger share", "mixture SD (effect sizes)", "always-valid (mSPRT)",
                     "naive peeking", "fixed horizon", "mSPRT stop"]),
    ])
    write_result("ab", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
