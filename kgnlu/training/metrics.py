"""Training metrics out: JSON lines (the record), TensorBoard (to watch live), PNG curves (to glance at).

``metrics.jsonl`` holds one object per log event: ``{"step": 100, "split": "train", "loss": ...}``.
On resume it is cut back to the checkpoint's step (a killed run may have logged past it), and
TensorBoard's writer purges events after that step, so both read as one uninterrupted run.
Only rank 0 writes.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from kgnlu.io import atomic_write, save_png


class MetricsLogger:
    def __init__(self, out_dir: Path, enabled: bool = True, tensorboard: bool = True, plot: bool = True,
                 resume_step: int | None = None):
        self.path = out_dir / "metrics.jsonl"
        self.plot_path = out_dir / "curves.png"
        self.enabled, self.plot_enabled = enabled, plot
        self.history: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        self.writer = None
        if not enabled:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        records = self._read() if resume_step is not None else []
        records = [r for r in records if r.get("step", 0) <= (resume_step or 0)]
        with atomic_write(self.path) as f:  # rewrite: drop what a killed run logged after its checkpoint
            for record in records:
                f.write(json.dumps(record) + "\n")
        for record in records:
            self._remember(record)
        self.file = open(self.path, "a", encoding="utf-8")
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(out_dir / "tensorboard"), purge_step=resume_step)

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by a kill: everything after it is suspect
        return records

    def _remember(self, record: dict[str, Any]) -> None:
        for key, value in record.items():
            if key not in ("step", "split") and isinstance(value, int | float):
                self.history[(record["split"], key)].append((record["step"], float(value)))

    def log(self, step: int, split: str, metrics: dict[str, float]) -> None:
        if not self.enabled:
            return
        record = {"step": step, "split": split, **metrics}
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()  # a kill loses at most the line being written
        self._remember(record)
        if self.writer is not None:
            for key, value in metrics.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    self.writer.add_scalar(f"{split}/{key}", value, step)

    def plot(self) -> Path | None:
        """One panel per metric name, train and eval curves together; written atomically."""
        if not (self.enabled and self.plot_enabled and self.history):
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = sorted({key for _, key in self.history if key not in ("epoch", "time")})
        cols = min(3, len(names))
        rows = -(-len(names) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            for (split, key), points in sorted(self.history.items()):
                if key == name and points:
                    steps, values = zip(*points, strict=True)
                    ax.plot(steps, values, label=split, marker="." if len(points) < 30 else None)
            ax.set_title(name)
            ax.set_xlabel("step")
            if name in ("loss", "lr") or name.endswith("loss"):
                values = [v for (_, k), pts in self.history.items() if k == name for _, v in pts]
                if values and min(values) > 0 and max(values) / min(values) > 50:
                    ax.set_yscale("log")
            ax.legend(fontsize=8)
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        fig.tight_layout()
        save_png(fig, self.plot_path, dpi=100)
        return self.plot_path

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.file.close()
        if self.writer is not None:
            self.writer.close()
