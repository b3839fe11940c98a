"""The downloader against a local HTTP server (127.0.0.1 only), and datasets downloading through it."""
import gzip
import hashlib
import io
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

import minise.data.download as download
from minise.data import CIFAR10, MNIST, ChecksumError, DownloadError, download_url
from minise.data.download import fetch


class Server:
    """Serves ``files`` (path -> bytes). Paths in ``corrupt`` get other bytes of the same length;
    paths in ``flaky`` break off their first transfer halfway. ``hits`` counts requests."""

    def __init__(self):
        self.files, self.corrupt, self.flaky, self.hits = {}, set(), set(), {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path
                server.hits[path] = server.hits.get(path, 0) + 1
                if path not in server.files:
                    self.send_error(404)
                    return
                data = server.files[path]
                if path in server.corrupt:
                    data = bytes(b ^ 0xFF for b in data)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if path in server.flaky and server.hits[path] == 1:
                    self.wfile.write(data[:len(data) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def add(self, path, data):
        self.files[path] = data
        return f"{self.url}{path}", hashlib.md5(data).hexdigest()


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(download, "RETRY_BACKOFF", 0.0)
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_md5_and_sha256(server, tmp_path):
    data = np.random.default_rng(0).bytes(200_000)
    url, md5 = server.add("/a.bin", data)
    path = download_url(url, tmp_path / "a.bin", md5=md5, timeout=5)
    assert path.read_bytes() == data and leftovers(tmp_path) == ["a.bin"]
    sha = hashlib.sha256(data).hexdigest()
    assert download_url(url, tmp_path / "b.bin", sha256=sha, timeout=5).read_bytes() == data


def test_existing_good_file_is_not_downloaded_again(server, tmp_path):
    url, md5 = server.add("/a.bin", b"hello")
    download_url(url, tmp_path / "a.bin", md5=md5, timeout=5)
    download_url(url, tmp_path / "a.bin", md5=md5, timeout=5)
    assert server.hits["/a.bin"] == 1
    (tmp_path / "a.bin").write_bytes(b"stale")          # a wrong file is replaced
    download_url(url, tmp_path / "a.bin", md5=md5, timeout=5)
    assert server.hits["/a.bin"] == 2 and (tmp_path / "a.bin").read_bytes() == b"hello"


def test_corrupted_file_is_refused_after_retries_and_nothing_is_left(server, tmp_path):
    data = b"real content" * 100
    url, md5 = server.add("/bad.bin", data)
    server.corrupt.add("/bad.bin")
    actual = hashlib.md5(bytes(b ^ 0xFF for b in data)).hexdigest()
    with pytest.raises(ChecksumError) as info:
        download_url(url, tmp_path / "bad.bin", md5=md5, retries=3, timeout=5)
    message = str(info.value)
    assert "bad.bin" in message and md5 in message and actual in message
    assert server.hits["/bad.bin"] == 3
    assert leftovers(tmp_path) == []


def test_broken_transfer_is_retried(server, tmp_path):
    data = np.random.default_rng(1).bytes(100_000)
    url, md5 = server.add("/flaky.bin", data)
    server.flaky.add("/flaky.bin")
    assert download_url(url, tmp_path / "flaky.bin", md5=md5, timeout=5).read_bytes() == data
    assert server.hits["/flaky.bin"] == 2 and leftovers(tmp_path) == ["flaky.bin"]


def test_broken_transfer_without_checksum_is_still_caught(server, tmp_path):
    url, _ = server.add("/flaky.bin", b"z" * 50_000)
    server.flaky.add("/flaky.bin")
    with pytest.raises(DownloadError, match="short read"):
        download_url(url, tmp_path / "flaky.bin", retries=1, timeout=5)
    assert leftovers(tmp_path) == []


def test_missing_file_and_refused_connection_and_bad_scheme(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download_url(server.url + "/none.bin", tmp_path / "none.bin", retries=3, timeout=5)
    assert server.hits["/none.bin"] == 1                 # a 404 is not retried
    with socket.socket() as probe:                       # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(DownloadError, match="attempt 2 of 2"):
        download_url(closed_url + "/x.bin", tmp_path / "x.bin", retries=2, timeout=2)
    with pytest.raises(ValueError, match="http"):
        download_url("ftp://127.0.0.1/x", tmp_path / "x")
    assert leftovers(tmp_path) == []


def test_fetch_falls_back_to_the_next_mirror(server, tmp_path):
    url, md5 = server.add("/second/f.bin", b"payload")
    path = fetch("f.bin", tmp_path, [server.url + "/first/", server.url + "/second"], md5=md5, timeout=5)
    assert path.read_bytes() == b"payload"
    with pytest.raises(DownloadError, match=r"any mirror:\n.*/first/g.bin"):
        fetch("g.bin", tmp_path, [server.url + "/first/"], timeout=5)


def mnist_files(n=5):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    header = lambda a: bytes([0, 0, 8, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    return images, labels, {"t10k-images-idx3-ubyte.gz": gzip.compress(header(images) + images.tobytes()),
                            "t10k-labels-idx1-ubyte.gz": gzip.compress(header(labels) + labels.tobytes())}


def test_mnist_downloads_checks_and_reads(server, tmp_path, monkeypatch):
    images, labels, files = mnist_files()
    md5 = {name: server.add(f"/mnist/{name}", data)[1] for name, data in files.items()}
    monkeypatch.setattr(MNIST, "MD5", {**MNIST.MD5, **md5})
    data = MNIST(tmp_path, train=False, download=True, mirrors=server.url + "/mnist/")
    assert len(data) == 5 and data.labels.tolist() == labels.tolist()
    np.testing.assert_array_equal(data.images[:, 0], images)
    assert leftovers(tmp_path / "mnist") == sorted(files)
    MNIST(tmp_path, train=False, download=True, mirrors=server.url + "/mnist/")
    assert all(server.hits[f"/mnist/{name}"] == 1 for name in files)   # already there


def test_mnist_download_refuses_files_that_do_not_match_the_official_md5(server, tmp_path):
    _, _, files = mnist_files()
    for name, data in files.items():
        server.add(f"/mnist/{name}", data)
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz.*9fb629c4189551a2d022fa330f9573f3"):
        MNIST(tmp_path, train=False, download=True, mirrors=[server.url + "/mnist/"])
    assert leftovers(tmp_path / "mnist") == []


def cifar_archive(records):
    """The binary CIFAR-10 release's layout: a .tar.gz with every batch file holding ``records``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            member.size = len(records)
            tar.addfile(member, io.BytesIO(records))
    return buffer.getvalue()


def test_cifar_downloads_and_extracts(server, tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    labels, images = rng.integers(0, 10, 3).astype(np.uint8), rng.integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([labels[:, None], images.reshape(3, -1)], axis=1).tobytes()
    _, md5 = server.add("/kriz/cifar-10-binary.tar.gz", cifar_archive(records))
    monkeypatch.setattr(CIFAR10, "MD5", {"cifar-10-binary.tar.gz": md5})
    test = CIFAR10(tmp_path, train=False, download=True, mirrors=[server.url + "/kriz/"])
    np.testing.assert_array_equal(test.labels, labels)
    np.testing.assert_array_equal(test.images, images)
    assert (tmp_path / "cifar-10-binary.tar.gz").is_file()


def test_a_corrupted_dataset_file_is_refused_and_the_good_one_kept(server, tmp_path, monkeypatch):
    """Real-format MNIST files with their true md5s; the server corrupts the label file in transit."""
    _, labels, files = mnist_files()
    md5 = {name: server.add(f"/mnist/{name}", data)[1] for name, data in files.items()}
    monkeypatch.setattr(MNIST, "MD5", {**MNIST.MD5, **md5})
    server.corrupt.add("/mnist/t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte.gz.*failed its md5 check") as info:
        MNIST(tmp_path, train=False, download=True, mirrors=server.url + "/mnist/")
    assert md5["t10k-labels-idx1-ubyte.gz"] in str(info.value)
    assert server.hits["/mnist/t10k-labels-idx1-ubyte.gz"] == 3                      # retried, then refused
    assert leftovers(tmp_path / "mnist") == ["t10k-images-idx3-ubyte.gz"]           # verified, so kept
    server.corrupt.clear()
    data = MNIST(tmp_path, train=False, download=True, mirrors=server.url + "/mnist/")
    assert data.labels.tolist() == labels.tolist() and server.hits["/mnist/t10k-images-idx3-ubyte.gz"] == 1


def test_a_corrupted_cifar_archive_is_refused(server, tmp_path, monkeypatch):
    _, md5 = server.add("/kriz/cifar-10-binary.tar.gz", cifar_archive(np.zeros((2, 3073), np.uint8).tobytes()))
    monkeypatch.setattr(CIFAR10, "MD5", {"cifar-10-binary.tar.gz": md5})
    server.corrupt.add("/kriz/cifar-10-binary.tar.gz")
    with pytest.raises(ChecksumError, match="cifar-10-binary.tar.gz"):
        CIFAR10(tmp_path, train=False, download=True, mirrors=[server.url + "/kriz/"])
    assert leftovers(tmp_path) == []
