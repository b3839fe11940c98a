"""A progress bar for training, drawn with plain carriage returns (no dependency).

On a terminal it redraws one line several times a second::

    epoch 3/20 [##########..........]  23/45  loss 0.412  acc 87.5%  1830 img/s

and ends each epoch with a summary line. When the stream is not a terminal (a log file, a CI job)
or ``live=False``, only the summary line is written, one per epoch.
"""
import sys
import time


def is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """Draws the progress of one epoch on ``stream`` (stderr by default); ``stream=None`` is silent."""

    width = 20            # characters of the bar
    interval = 0.1        # seconds between redraws

    def __init__(self, stream=sys.stderr, live=True):
        self.stream = stream
        self.live = live and stream is not None and is_terminal(stream)
        self._last_draw = 0.0
        self._drawn = 0

    def start_epoch(self, epoch, epochs, batches):
        self.epoch, self.epochs, self.batches = epoch, epochs, batches

    def update(self, batch, loss, accuracy, images_per_second, force=False):
        """Redraw after ``batch`` batches (1-based) when the last redraw is old enough."""
        if not self.live:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < self.interval and batch < self.batches:
            return
        self._last_draw = now
        filled = int(self.width * batch / max(1, self.batches))
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"epoch {self.epoch}/{self.epochs} [{bar}] {batch:>{len(str(self.batches))}}/{self.batches}"
                f"  loss {loss:.4f}  acc {100 * accuracy:5.1f}%  {images_per_second:,.0f} img/s")
        self._write("\r" + line + " " * max(0, self._drawn - len(line)))
        self._drawn = len(line)

    def end_epoch(self, summary):
        """Replace the bar by the epoch's summary line (or just write it when not live)."""
        if self.stream is None:
            return
        prefix = "\r" if self.live and self._drawn else ""
        padding = " " * max(0, self._drawn - len(summary))
        self._write(prefix + summary + padding + "\n")
        self._drawn = 0

    def message(self, text):
        """A line of its own (clears a half-drawn bar first)."""
        if self.stream is None:
            return
        if self.live and self._drawn:
            self._write("\r" + " " * self._drawn + "\r")
            self._drawn = 0
        self._write(text + "\n")

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()


def epoch_summary(row, epochs):
    """One line per epoch: 'epoch 3/20  train loss 0.41 acc 87.5%  val loss 0.30 acc 91.2%  lr 0.1  6.2s'."""
    parts = [f"epoch {row['epoch']}/{epochs}",
             f"train loss {row['train_loss']:.4f} acc {100 * row['train_accuracy']:.2f}%"]
    if row.get("val_loss") is not None:
        parts.append(f"val loss {row['val_loss']:.4f} acc {100 * row['val_accuracy']:.2f}%")
    parts.append(f"lr {row['lr']:.4g}")
    parts.append(f"{row['epoch_time']:.1f}s ({row['images_per_second']:,.0f} img/s)")
    return "  ".join(parts)
