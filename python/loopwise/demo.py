"""``loopwise demo``: the whole feedback loop on a generated drifting stream, in seconds.

A champion trained on the first concept serves predictions in batches; labels arrive two
batches late; the concept changes abruptly mid-stream. The loop logs every prediction, joins
the labels, detects the drift, trains challengers on candidate windows (among them the rows
since the detected change), validates the best against the champion on the newest labels and
promotes it, then writes an HTML report. Model and policy are what a new user writes: a
scikit-learn LogisticRegression and the loop's defaults.
"""

from __future__ import annotations

import logging
import os
import shutil
import time

import numpy as np

__all__ = ["run_demo"]


def run_demo(out: str = "loopwise-demo", *, n_samples: int = 12_000, batch_size: int = 500, label_delay: int = 2,
             random_state: int = 0, verbose: bool = True) -> dict:
    """Run the demo loop and write its report; returns a JSON-serialisable summary.

    Parameters
    ----------
    out : str
        Output directory (replaced if it holds a previous demo).
    n_samples, batch_size : int
        Stream length and serving batch size.
    label_delay : int
        Batches between a prediction and its label.
    random_state : int
        Seed of the stream.
    verbose : bool
        Print one line per decision.

    Examples
    --------
    >>> import tempfile
    >>> summary = run_demo(tempfile.mkdtemp(), n_samples=6000, verbose=False)
    >>> summary["promotions"] >= 1
    True
    """
    from sklearn.linear_model import LogisticRegression

    from .datasets import make_drifting_stream
    from .loop.alerts import LogSink
    from .loop.feedback_loop import FeedbackLoop

    started = time.perf_counter()
    if n_samples < 6 * batch_size:
        raise ValueError(f"n_samples must be at least 6 * batch_size = {6 * batch_size}")
    change = n_samples // 2
    stream = make_drifting_stream(n_samples=n_samples, kind="abrupt", change_points=[change], random_state=random_state)
    warmup = 2 * batch_size
    loop_dir = os.path.join(out, "loop")
    if os.path.isdir(loop_dir):
        shutil.rmtree(loop_dir)
    os.makedirs(out, exist_ok=True)

    # A plain scikit-learn model and the loop's default policy: what a new user writes.
    champion = LogisticRegression(max_iter=1000).fit(stream.X.iloc[:warmup], stream.y[:warmup])
    frozen = champion  # the never-retrained baseline
    # Alerts go to a log file here; a WebhookSink would page a team the same way.
    alerts_path, alerts_handler = _alerts_log(out)
    loop = FeedbackLoop(loop_dir, model=champion, reference=stream.X.iloc[:warmup],
                        reference_labels=stream.y[:warmup], alerts=[LogSink(logger=_ALERTS_LOGGER)])
    served: list[np.ndarray] = []
    events = []
    pending: list[tuple[list[str], np.ndarray]] = []
    for index, (X, y, stamp) in enumerate(stream.batches(batch_size)):
        if index * batch_size < warmup:
            continue
        ids = [f"req-{index}-{i}" for i in range(len(X))]
        served.append(loop.predict(X, ids=ids, timestamp=stamp))
        pending.append((ids, y))
        if len(pending) > label_delay:
            label_ids, labels = pending.pop(0)
            loop.feedback(label_ids, labels)
        result = loop.step(key=f"batch-{index}")
        if result.get("action") not in (None, "none"):
            events.append({"batch": index, "row": index * batch_size, **{k: result.get(k) for k in ("action", "challenger", "reasons", "reasons_rejected")}})
            if verbose:
                if result["action"] == "rejected":
                    what = "challenger rejected: " + "; ".join(result.get("reasons_rejected") or [])
                else:
                    what = f"v{result.get('challenger')} ({result.get('training_window', {}).get('window', '')}): " \
                        + "; ".join(result.get("reasons") or [])
                print(f"batch {index:3d} (row {index * batch_size:6d}): {result['action']:9s} {what}")
    predictions = np.concatenate(served)
    truth = stream.y[warmup:]
    after = np.arange(warmup, n_samples) >= change
    loop_accuracy = float(np.mean(predictions[after] == truth[after]))
    frozen_predictions = frozen.predict(stream.X.iloc[warmup:])
    frozen_accuracy = float(np.mean(frozen_predictions[after] == truth[after]))
    # The level the loop settles at: the last third of the rows after the change.
    settled = np.arange(warmup, n_samples) >= change + 2 * (n_samples - change) // 3
    settled_loop = float(np.mean(predictions[settled] == truth[settled]))
    settled_frozen = float(np.mean(frozen_predictions[settled] == truth[settled]))
    before_accuracy = float(np.mean(predictions[~after] == truth[~after]))
    report = loop.report(os.path.join(out, "report.html"))
    promotions = sum(1 for e in events if e["action"] == "promoted")
    first_detection = next((e["row"] for e in events if e["row"] >= change), None)
    summary = {
        "rows_served": int(len(predictions)),
        "change_point": int(change),
        "accuracy_before_change": round(before_accuracy, 4),
        "accuracy_after_change_never_retrained": round(frozen_accuracy, 4),
        "accuracy_after_change_with_loop": round(loop_accuracy, 4),
        "accuracy_last_third_never_retrained": round(settled_frozen, 4),
        "accuracy_last_third_with_loop": round(settled_loop, 4),
        "first_retraining_row": first_detection,
        "promotions": promotions,
        "rejections": sum(1 for e in events if e["action"] == "rejected"),
        "champion": loop.champion_version,
        "report": report,
        "card": loop.champion_card_path(),
        "seconds": round(time.perf_counter() - started, 1),
        "events": events,
    }
    delivered = [d for details in loop.audit.entries(kind="alert")["details"] for d in details["deliveries"]
                 if d["outcome"] == "delivered"]
    summary["alerts"] = {"delivered": len(delivered), "log": alerts_path}
    loop.close()
    logging.getLogger(_ALERTS_LOGGER).removeHandler(alerts_handler)
    alerts_handler.close()
    if verbose:
        print(
            f"\nserved {summary['rows_served']} rows; concept changed at row {change}\n"
            f"accuracy before the change:            {before_accuracy:.3f}\n"
            f"accuracy after it, never retrained:    {frozen_accuracy:.3f}\n"
            f"accuracy after it, with the loop:      {loop_accuracy:.3f}\n"
            f"  in the last third of the stream:     {settled_loop:.3f} with the loop, {settled_frozen:.3f} without\n"
            f"promotions: {promotions}, champion now v{summary['champion']}; report: {report}\n"
            f"model card of the champion: {summary['card']}\n"
            f"({summary['seconds']} s)"
        )
        print(f"alerts: {len(delivered)} incidents delivered to {alerts_path} "
              "(each also in the audit log, kind 'alert')")
    return summary


_ALERTS_LOGGER = "loopwise.demo.alerts"


def _alerts_log(out: str) -> tuple[str, logging.Handler]:
    """A file handler on the demo's alert logger (its LogSink writes there)."""
    path = os.path.join(out, "alerts.log")
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(_ALERTS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the file, not the user's console, receives them
    return path, handler
