"""Per-epoch metrics on disk: ``metrics.jsonl`` (one JSON object a line) and ``metrics.csv``.

Both files hold the same rows, one per finished epoch, with the columns of ``COLUMNS``. JSON lines
are easy to read back in Python (:func:`read_metrics`); the CSV opens in a spreadsheet. When
matplotlib is installed, :func:`plot_metrics` draws the loss and accuracy curves to a PNG.
"""
import csv
import io
import json
import math
import os

from ..io.atomic import atomic_write

COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "epoch_time",
           "images_per_second")


def _clean(value):
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class MetricsWriter:
    """Appends epoch rows to ``<folder>/metrics.jsonl`` and ``<folder>/metrics.csv``."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        self.jsonl_path = os.path.join(self.folder, "metrics.jsonl")
        self.csv_path = os.path.join(self.folder, "metrics.csv")

    def reset(self, keep_epochs=0):
        """Keep only the rows of epochs 1..keep_epochs (0: start both files afresh), atomically."""
        rows = [r for r in read_metrics(self.jsonl_path) if r["epoch"] <= keep_epochs] if keep_epochs else []
        self.write(rows)
        return rows

    def append(self, row):
        """Add one epoch's row; both files are rewritten atomically, so a kill never leaves half a line."""
        self.write(read_metrics(self.jsonl_path) + [{k: _clean(row.get(k)) for k in COLUMNS}])

    def write(self, rows):
        os.makedirs(self.folder, exist_ok=True)
        with atomic_write(self.jsonl_path) as f:
            f.write("".join(json.dumps(row) + "\n" for row in rows).encode("utf-8"))
        with atomic_write(self.csv_path) as f:
            f.write(_csv_text(rows, header=True).encode("utf-8"))


def _csv_text(rows, header):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in COLUMNS})
    return buffer.getvalue()


def read_metrics(path):
    """The rows of a ``metrics.jsonl`` file (a list of dicts); [] if there is no such file."""
    if os.path.isdir(path):
        path = os.path.join(path, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    rows = []
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise ValueError(f"{path}, line {line_number}, is not valid JSON; the metrics file is "
                                     "damaged") from None
    return rows


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _number(value, scale=1):
    """A metric for plotting: None (not measured) becomes NaN, a gap in the line."""
    return float("nan") if value is None else scale * value


def plot_metrics(runs, path, title=None):
    """Draw loss and accuracy per epoch to ``path`` (PNG); returns the path, or None without matplotlib.

    ``runs`` is a list of rows (one run) or a dict label -> rows (several runs on one figure).
    """
    if not have_matplotlib():
        return None
    from matplotlib.figure import Figure  # no pyplot: the caller's backend and figures stay as they were

    runs = runs if isinstance(runs, dict) else {"": runs}
    figure = Figure(figsize=(10, 4))
    ax_loss, ax_acc = figure.subplots(1, 2)
    for index, (label, rows) in enumerate(runs.items()):
        epochs = [r["epoch"] for r in rows]
        prefix, colour = (f"{label} " if label else ""), f"C{index}"         # one colour per run
        for split, style in (("train", "--"), ("val", "-")):
            if any(r.get(f"{split}_loss") is not None for r in rows):
                ax_loss.plot(epochs, [_number(r.get(f"{split}_loss")) for r in rows], style, color=colour,
                             label=f"{prefix}{split}")
                ax_acc.plot(epochs, [_number(r.get(f"{split}_accuracy"), 100) for r in rows], style, color=colour,
                            label=f"{prefix}{split}")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path) as f:
        figure.savefig(f, format="png", dpi=100)
    return path
