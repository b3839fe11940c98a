"""Fetching dataset files: checked, retried, and never left half-written.

:func:`download_url` streams a URL through minise's atomic writer (a temporary file next to its
destination), hashing the bytes on the way. Only when the whole file has arrived and its checksum
matches is it renamed into place (``os.replace`` is atomic), so an interrupted or corrupted transfer never leaves a file
that looks complete. A failed attempt (connection error, timeout, short read, checksum mismatch)
is retried; a file that still does not match after every attempt is refused with an error that
names the file and both digests.

:func:`fetch` tries a list of mirrors in turn. Only the standard library is used (urllib).
"""
import hashlib
import time
from pathlib import Path

from ..io.atomic import atomic_write

_CHUNK = 1 << 16
RETRY_BACKOFF = 1.0        # seconds before the second attempt (doubled each time); tests lower it


class ChecksumError(ValueError):
    """A downloaded file's digest differs from the expected one."""


class DownloadError(OSError):
    """A file could not be downloaded (after all retries and mirrors)."""


def file_digest(path, algorithm="md5"):
    """The hex digest of the file at ``path`` ('md5' or 'sha256')."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_digest(md5, sha256):
    if md5 and sha256:
        raise ValueError("give md5 or sha256, not both")
    if sha256:
        return "sha256", sha256.lower()
    if md5:
        return "md5", md5.lower()
    return None, None


def download_url(url, path, md5=None, sha256=None, retries=3, timeout=30.0, backoff=None):
    """Download ``url`` to ``path`` and return ``path`` (a ``pathlib.Path``).

    Args:
        url: an http:// or https:// address.
        path: where the file ends up; its folder is created if needed.
        md5, sha256: the expected hex digest (at most one); without one the file is not checked.
        retries: how many attempts in all (at least 1).
        timeout: seconds to wait for the server on each network operation.
        backoff: seconds to wait before the second attempt, doubled before each further one
            (default RETRY_BACKOFF).

    A file already at ``path`` with the right digest is kept and not downloaded again.
    Raises :class:`ChecksumError` when the last attempt's bytes do not match, and
    :class:`DownloadError` when no attempt could transfer the file.
    """
    if not str(url).startswith(("http://", "https://")):
        raise ValueError(f"download_url only fetches http:// or https:// URLs; got {url!r}")
    if int(retries) < 1:
        raise ValueError(f"retries must be at least 1; got {retries}")
    backoff = RETRY_BACKOFF if backoff is None else backoff
    path = Path(path)
    algorithm, expected = _expected_digest(md5, sha256)
    if path.is_file() and (expected is None or file_digest(path, algorithm) == expected):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)

    # imported here, not at the top: `import minise` stays quick
    import urllib.error
    from http.client import HTTPException
    last_error = None
    for attempt in range(int(retries)):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _transfer(url, path, algorithm, expected, timeout)
            return path
        except ChecksumError as error:
            last_error = error
        except urllib.error.HTTPError as error:
            last_error = DownloadError(f"could not download {url}: HTTP {error.code} {error.reason}")
            if 400 <= error.code < 500 and error.code not in (408, 429):
                break                                   # the server will not change its mind
        except (urllib.error.URLError, HTTPException, OSError) as error:
            last_error = DownloadError(f"could not download {url} (attempt {attempt + 1} of {retries}): {error}")
    raise last_error


def _transfer(url, path, algorithm, expected, timeout):
    """Stream ``url`` through the atomic writer onto ``path``, hashing on the way.

    Only a complete transfer whose digest matches ``expected`` (when given) replaces ``path``; a
    failed one leaves no file behind (the writer removes its temporary file).
    """
    import urllib.request
    digest = hashlib.new(algorithm or "md5")
    request = urllib.request.Request(url, headers={"User-Agent": "minise"})
    with urllib.request.urlopen(request, timeout=timeout) as response, atomic_write(path) as out:
        announced = response.headers.get("Content-Length")
        received = 0
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
        if announced is not None and received != int(announced):
            raise DownloadError(f"short read: got {received} of {announced} bytes")
        if expected is not None and digest.hexdigest() != expected:
            raise ChecksumError(
                f"{path.name} from {url} failed its {algorithm} check: expected {expected}, got {digest.hexdigest()}; "
                f"the file was not kept (the transfer was corrupted or the server holds a different file)")


def fetch(filename, folder, mirrors, md5=None, sha256=None, **download_options):
    """Download ``filename`` into ``folder`` from the first of ``mirrors`` (base URLs) that works.

    A mirror that fails or serves a file with the wrong digest is skipped for the next one.
    Returns the file's path; raises the last mirror's error (listing every mirror tried).
    """
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            return download_url(url, Path(folder) / filename, md5=md5, sha256=sha256, **download_options)
        except (ChecksumError, DownloadError) as error:
            errors.append(error)
    if not errors:
        raise ValueError(f"no mirror given to download {filename} from")
    tried = "\n  ".join(str(e) for e in errors)
    raise type(errors[-1])(f"could not download {filename} from any mirror:\n  {tried}")


def missing_files_error(dataset, folder, files):
    """The error a dataset raises when its files are absent and ``download`` is False."""
    listed = ", ".join(files)
    return FileNotFoundError(
        f"{dataset} files not found in {folder}: expected {listed}. Pass download=True to fetch "
        f"them, or point root (the command line's --data-dir) at the folder that holds them.")
