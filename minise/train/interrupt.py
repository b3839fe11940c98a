"""Ctrl-C during training: finish what must not be cut in half, then stop.

A training step changes the model, its batch-norm statistics and the optimizer together; a save
writes last.npz and then best.npz. Cut in the middle, either would leave a state that no
checkpoint should hold. So inside such a *guarded* section the first Ctrl-C only takes note, and
the section ends before KeyboardInterrupt is raised. A second Ctrl-C means "stop now": it raises
:class:`HardInterrupt` at once, and whatever was in progress is abandoned (an unfinished file
write leaves the previous file as it was; a half-done step is never saved). Outside guarded
sections (loading data, validating) Ctrl-C raises at once: nothing is half-changed there.
"""
import contextlib
import signal
import threading


class HardInterrupt(KeyboardInterrupt):
    """A second Ctrl-C inside a guarded section: stopped at once, the section left unfinished."""


class Interrupts:
    """Installs the SIGINT handler for the duration of a ``with`` block (main thread only)."""

    def __init__(self):
        self.count = 0             # Ctrl-Cs seen
        self.pending = False       # one arrived inside a guarded section and waits for its end
        self.guarded = False

    def __enter__(self):
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        return False

    def _handler(self, signum, frame):
        self.count += 1
        if not self.guarded:
            raise KeyboardInterrupt
        if self.pending or self.count > 1:
            raise HardInterrupt
        self.pending = True

    @contextlib.contextmanager
    def guard(self):
        """A section that Ctrl-C does not cut (the first one waits for its end)."""
        self.guarded = True
        try:
            yield
        except BaseException:
            self.guarded = self.pending = False
            raise
        self.guarded = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt
