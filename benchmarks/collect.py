"""Assemble benchmarks/RESULTS.md from the per-area tables in benchmarks/results/.

Each benchmark script writes its latest table to results/<area>.md; this keeps one
document with all of them, in a fixed order. Run: python benchmarks/collect.py
"""

from __future__ import annotations

import os

ORDER = ["predict", "explain_tree", "agnostic", "drift", "streaming", "loop_store", "loop"]
HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    results = os.path.join(HERE, "results")
    names = sorted(name[:-3] for name in os.listdir(results) if name.endswith(".md"))
    names = [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]
    parts = [
        "# loopwise benchmark results\n",
        "Ratios are peer time / loopwise time measured in the same process run on the same data "
        "(see ../../shared/BENCHMARKS.md); absolute seconds drift on a shared 2-core machine. "
        "Each section is the latest output of `python benchmarks/<area>.py`; regenerate this file with "
        "`python benchmarks/collect.py`.\n",
    ]
    for name in names:
        with open(os.path.join(results, f"{name}.md"), encoding="utf-8") as handle:
            parts.append(f"<!-- benchmarks/{name}.py -->\n" + handle.read().strip() + "\n")
    with open(os.path.join(HERE, "RESULTS.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    print(f"wrote RESULTS.md from {len(names)} tables: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
