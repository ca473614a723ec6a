"""The loop report (the demo's) and a drift report as a person sees them: rendered by headless
Chromium (Debian's ``chromium``, installed by scripts/test.sh) at 1400 px and at a phone's
390 px. Checks what a reader would notice: the summary is there, every image and chart has a
size, no table cell shows a raw Python repr. Screenshots are kept under build/screenshots/.

Without chromium the test FAILS, unless ``LOOPWISE_SKIP_BROWSER=1`` says to skip it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
WIDTHS = (1400, 390)

# Runs in the page after load; writes its findings into the DOM that --dump-dom prints.
_PROBE = """
<script>
window.addEventListener('load', () => {
  const bad = [];
  document.querySelectorAll('img, svg').forEach((el, i) => {
    const r = el.getBoundingClientRect();
    const loaded = el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0);
    if (!(r.width > 0 && r.height > 0 && loaded)) bad.push(el.tagName + '#' + i);
  });
  const cells = [...document.querySelectorAll('td')].map(td => td.innerText)
      .filter(t => /^[\\[{(]|[\\]}]$|\\{'|\\['|nan|None/.test(t.trim()));
  const summary = document.getElementById('summary');
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({
    images: document.querySelectorAll('img, svg').length, bad: bad, reprs: cells,
    summary: summary ? summary.innerText.length : 0,
    overflow: document.documentElement.scrollWidth - window.innerWidth});
  document.body.appendChild(out);
});
</script>
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("LOOPWISE_SKIP_BROWSER") == "1":
            pytest.skip("LOOPWISE_SKIP_BROWSER=1 and no chromium")
        pytest.fail("headless chromium is missing: scripts/test.sh installs Debian's 'chromium' "
                    "(set LOOPWISE_SKIP_BROWSER=1 to skip)")
    return found


def _run(browser: str, *args: str) -> str:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _look(html_path: Path, name: str) -> list[dict]:
    import json

    browser = _chromium()
    probed = html_path.with_name(html_path.stem + "_probed.html")
    probed.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    findings = []
    for width in WIDTHS:
        shot = SHOTS / f"{name}_{width}.png"
        _run(browser, f"--screenshot={shot}", f"--window-size={width},2000", probed.as_uri())
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot at {shot}"
        from PIL import Image

        pixels = np.asarray(Image.open(shot).convert("L"))
        assert pixels.std() > 10, f"{shot} is blank"
        dom = _run(browser, "--dump-dom", "--virtual-time-budget=5000", f"--window-size={width},2000", probed.as_uri())
        match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        assert match, "the probe script did not run"
        import html as html_module

        found = json.loads(html_module.unescape(match.group(1)))
        found["width"] = width
        findings.append(found)
    return findings


def _check(findings: list[dict], min_images: int) -> None:
    for found in findings:
        assert found["summary"] > 80, f"no summary at {found['width']} px: {found}"
        assert found["images"] >= min_images, found
        assert not found["bad"], f"images or charts with no size at {found['width']} px: {found['bad']}"
        assert not found["reprs"], f"raw Python in table cells: {found['reprs'][:5]}"
        assert found["overflow"] <= 2, f"the page scrolls sideways at {found['width']} px: {found}"


def test_demo_loop_report_looks_right(tmp_path):
    from loopwise.demo import run_demo

    summary = run_demo(str(tmp_path / "demo"), n_samples=6000, verbose=False)
    report = Path(summary["report"])
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text, "the report must not fetch anything"
    _check(_look(report, "loop_report"), min_images=2)


def test_drift_report_looks_right(tmp_path):
    from loopwise.drift import compare

    rng = np.random.default_rng(0)
    n = 3000  # above 1,000 rows, where distances decide
    reference = pd.DataFrame({
        "amount": rng.normal(size=n), "age": rng.normal(40, 10, size=n),
        "city": rng.choice(list("ABCDEFGH"), n),
        "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "score": np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
    })
    current = reference.copy()
    current["amount"] += 0.5
    current["city"] = rng.choice(list("ABCDEFGH"), n, p=[0.3] + [0.1] * 7)
    current.loc[rng.random(n) < 0.3, "score"] = np.nan
    report = compare(reference, current)
    path = tmp_path / "drift.html"
    report.to_html(path)
    text = path.read_text(encoding="utf-8")
    assert "distance" in text and "threshold" in text and "(drifted)" in text  # how judged; missing values
    _check(_look(path, "drift_report"), min_images=len(report.histograms))
    small = compare(reference.iloc[:300], current.iloc[:300])  # p-value tests decide below 1,000 rows
    assert "p = " in small.to_html()
