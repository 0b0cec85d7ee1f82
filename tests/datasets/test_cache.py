"""Data directory, checksums and atomic downloads, with urlopen replaced by fakes (no network)."""

import hashlib
import http.client
import io
import os
import urllib.error

import pytest

from neurona.datasets import cache

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class FakeResponse(io.BytesIO):
    """A urlopen response that raises ``error`` after ``fail_after`` bytes (a connection dropped midway)."""

    def __init__(self, data, fail_after=None, error=None):
        super().__init__(data)
        self.fail_after, self.error = fail_after, error

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise self.error
        return super().read(size)


def fake_urlopen(responses, calls):
    """urlopen stand-in: ``responses`` maps a URL to bytes, a FakeResponse factory, or an exception."""
    def urlopen(url, timeout):
        calls.append((url, timeout))
        answer = responses.get(url, urllib.error.URLError("no route (fake)"))
        if isinstance(answer, BaseException):
            raise answer
        return answer() if callable(answer) else FakeResponse(answer)
    return urlopen


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert cache.sha256_file(path) == PAYLOAD_SHA


def test_verify_file_names_path_and_both_digests(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD[:-1] + b"\x00")
    with pytest.raises(cache.ChecksumError) as info:
        cache.verify_file(path, PAYLOAD_SHA)
    message = str(info.value)
    assert str(path) in message and PAYLOAD_SHA in message
    assert hashlib.sha256(path.read_bytes()).hexdigest() in message
    path.write_bytes(PAYLOAD)
    cache.verify_file(path, PAYLOAD_SHA)


def test_atomic_output_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with cache.atomic_output(path) as f:
            f.write(b"new but incomplete")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["data.bin"]
    with cache.atomic_output(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == ["data.bin"]


def test_download_success(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(cache, "urlopen", fake_urlopen({"https://m/f.gz": PAYLOAD}, calls))
    cache.download_file("https://m/f.gz", tmp_path / "sub" / "f.gz", PAYLOAD_SHA, timeout=3)
    assert (tmp_path / "sub" / "f.gz").read_bytes() == PAYLOAD
    assert calls == [("https://m/f.gz", 3)]


@pytest.mark.parametrize("error", [ConnectionResetError("reset by peer"), TimeoutError("read timed out"),
                                   http.client.IncompleteRead(b"partial")])
def test_download_failing_midway_leaves_nothing(tmp_path, monkeypatch, error):
    responses = {"https://m/f.gz": lambda: FakeResponse(PAYLOAD, fail_after=100_000, error=error)}
    monkeypatch.setattr(cache, "urlopen", fake_urlopen(responses, []))
    with pytest.raises(type(error)):
        cache.download_file("https://m/f.gz", tmp_path / "f.gz", PAYLOAD_SHA)
    assert os.listdir(tmp_path) == []


def test_download_with_wrong_checksum_is_not_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "urlopen", fake_urlopen({"https://m/f.gz": PAYLOAD[:-1]}, []))
    with pytest.raises(cache.ChecksumError, match=f"expected {PAYLOAD_SHA}; not saved"):
        cache.download_file("https://m/f.gz", tmp_path / "f.gz", PAYLOAD_SHA)
    assert os.listdir(tmp_path) == []


def test_mirrors_are_tried_in_order(tmp_path, monkeypatch):
    calls = []
    responses = {"https://a/f.gz": urllib.error.URLError("down"),
                 "https://b/f.gz": lambda: FakeResponse(PAYLOAD, fail_after=10, error=ConnectionResetError()),
                 "https://c/f.gz": PAYLOAD}
    monkeypatch.setattr(cache, "urlopen", fake_urlopen(responses, calls))
    path = cache.download_from_mirrors("f.gz", str(tmp_path), PAYLOAD_SHA, ["https://a/", "https://b/", "https://c/"])
    assert [url for url, _ in calls] == ["https://a/f.gz", "https://b/f.gz", "https://c/f.gz"]
    assert path == os.path.join(tmp_path, "f.gz") and (tmp_path / "f.gz").read_bytes() == PAYLOAD
    assert os.listdir(tmp_path) == ["f.gz"]


def test_all_mirrors_failing_lists_each_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "urlopen", fake_urlopen({"https://b/f.gz": b"wrong"}, []))
    target = tmp_path / "not-yet"
    with pytest.raises(cache.DownloadError) as info:
        cache.download_from_mirrors("f.gz", str(target), PAYLOAD_SHA, ["https://a/", "https://b/"])
    assert "https://a/f.gz" in str(info.value) and "https://b/f.gz" in str(info.value)
    assert "no route" in str(info.value) and "SHA-256" in str(info.value)
    assert os.listdir(target) == []  # created once b answered, but left empty


@pytest.mark.parametrize("value, expected", [(None, False), ("", False), ("0", False), ("false", False),
                                             ("no", False), ("1", True), ("yes", True), ("TRUE", True)])
def test_offline_flag(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(cache.OFFLINE_ENV, raising=False)
    else:
        monkeypatch.setenv(cache.OFFLINE_ENV, value)
    assert cache.offline() is expected


def test_data_dir_from_env_or_home(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.DATA_DIR_ENV, str(tmp_path / "d"))
    assert cache.get_data_dir() == str(tmp_path / "d")
    monkeypatch.delenv(cache.DATA_DIR_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.get_data_dir() == os.path.join(str(tmp_path), ".cache", "neurona")
