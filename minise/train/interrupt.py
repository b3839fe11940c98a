"""Ctrl-C (and SIGTERM) during training: finish what must not be cut in half, then stop.

A training step changes the model, its batch-norm statistics and the optimizer together; a save
writes last.npz and then best.npz. Cut in the middle, either would leave a state that no
checkpoint should hold. So inside such a *guarded* section the first Ctrl-C only takes note, and
the section ends before KeyboardInterrupt is raised. A second Ctrl-C means "stop now": it raises
:class:`HardInterrupt` at once, and whatever was in progress is abandoned (an unfinished file
write leaves the previous file as it was; a half-done step is never saved). Outside guarded
sections (loading data, validating) Ctrl-C raises at once: nothing is half-changed there.

SIGTERM, what ``kill`` and schedulers send to ask a job to stop, is treated as a Ctrl-C: the step
or save in progress finishes, the checkpoint is written, and :class:`Terminated` (a
KeyboardInterrupt) is raised. SIGKILL cannot be caught: atomic writes keep the files whole.
"""
import contextlib
import signal
import threading


class HardInterrupt(KeyboardInterrupt):
    """A second Ctrl-C inside a guarded section: stopped at once, the section left unfinished."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: stop as after a Ctrl-C (finish the step, save)."""


SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Installs the SIGINT and SIGTERM handlers for the duration of a ``with`` block (main thread only)."""

    def __init__(self):
        self.count = 0             # Ctrl-Cs (and SIGTERMs) seen
        self.pending = False       # one arrived inside a guarded section and waits for its end
        self.guarded = False
        self.terminated = False    # the first was a SIGTERM

    def __enter__(self):
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            self.previous = {s: signal.signal(s, self._handler) for s in SIGNALS}
        return self

    def __exit__(self, *exc):
        if self.active:
            for s, handler in self.previous.items():
                signal.signal(s, handler)
        return False

    def _stop(self):
        return Terminated() if self.terminated else KeyboardInterrupt()

    def _handler(self, signum, frame):
        self.count += 1
        self.terminated = self.terminated or (self.count == 1 and signum == signal.SIGTERM)
        if not self.guarded:
            raise self._stop()
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
            raise self._stop()
