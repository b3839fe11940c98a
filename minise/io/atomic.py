"""Writing a file so that a crash never leaves half of it: the one atomic writer of minise.

    with atomic_write("runs/a/last.npz") as f:      # f: a binary file opened for writing
        f.write(data)

The bytes go to a hidden temporary file in the same folder (``.last.npz.<pid>.<random>.tmp``).
Only when the ``with`` block ends without an error is the file flushed, forced to the disk
(``fsync``) and renamed over the target with ``os.replace``, which is atomic: a reader, or the next
run after a crash, sees the old file or the new one, never a mixture. Any error (``KeyboardInterrupt``
included) removes the temporary file and leaves the target as it was; an ``OSError`` (disk full, no
permission) comes back as an error of the same class whose message names the file and says so. A process killed with
SIGKILL cannot clean up: :func:`remove_stale_temporaries` deletes what such a process left behind.
"""
import contextlib
import errno
import os
import re
import shutil
import tempfile

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync_folder(folder):
    """Make the rename itself durable (POSIX); harmless where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file next to ``path`` for writing bytes; move it onto ``path`` on success."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist; create it first "
                                f"(os.makedirs({folder!r}, exist_ok=True))")
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.{os.getpid()}.", suffix=".tmp")
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())            # mkstemp makes it private (0600)
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, OSError) and not getattr(error, "named", False):
            raise _cannot_write(path, error) from None
        raise
    _sync_folder(folder)


def _cannot_write(path, error):
    """The error of a failed write, of the same class (PermissionError, ...): the file, the reason,
    and that the old file is untouched."""
    kept = "the file there is as it was" if os.path.exists(path) else "nothing was written"
    named = type(error)(f"cannot write {path}: {error.strerror or error}; {kept}")
    named.errno, named.named = error.errno, True
    return named


def copy_file(source, target):
    """Copy ``source`` onto ``target`` atomically (the target is the old file or a whole copy)."""
    with open(source, "rb") as reader, atomic_write(target) as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM              # it exists, owned by someone else
    return True


def remove_stale_temporaries(folder, names=None):
    """Delete the temporary files that killed writers left in ``folder`` (those of ``names`` only,
    when given); files of a writer that is still running are kept. Returns the paths removed."""
    removed = []
    if not os.path.isdir(folder):
        return removed
    for entry in os.listdir(folder):
        match = _TEMPORARY.match(entry)
        if match is None or (names is not None and match["name"] not in names) or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, entry))
            removed.append(os.path.join(folder, entry))
    return removed
