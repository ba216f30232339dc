"""Blob store: the same contract on the local folder and on S3 (moto's in-process fake)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.kernel import storage


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[storage.BlobStore]:
    if request.param == "local":
        yield storage.LocalBlobStore(tmp_path / "blobs")
        return
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="stackyard-test")
        yield storage.S3BlobStore("stackyard-test", prefix="tests", client=client)


def test_a_stored_blob_reads_back_with_its_content_type(store: storage.BlobStore) -> None:
    store.put("cdn/objects/7", b"\x00payload", "image/png")
    blob = store.get("cdn/objects/7")
    assert blob is not None
    assert (blob.data, blob.content_type) == (b"\x00payload", "image/png")
    assert blob.stored_at.tzinfo is not None


def test_a_missing_key_reads_as_none(store: storage.BlobStore) -> None:
    assert store.get("cdn/objects/never") is None


def test_put_replaces_and_delete_removes(store: storage.BlobStore) -> None:
    store.put("a/b", b"one")
    store.put("a/b", b"two", "text/plain")
    blob = store.get("a/b")
    assert blob is not None and blob.data == b"two"
    assert store.delete("a/b") is True
    assert store.get("a/b") is None
    assert store.delete("a/b") is False


def test_keys_lists_by_prefix(store: storage.BlobStore) -> None:
    for key in ("cdn/objects/1", "cdn/objects/2", "blog/x"):
        store.put(key, b".")
    assert store.keys("cdn/") == ["cdn/objects/1", "cdn/objects/2"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/../b", "", "a b"])
def test_keys_that_could_escape_the_folder_are_refused(store: storage.BlobStore, key: str) -> None:
    with pytest.raises(storage.InvalidKey):
        store.put(key, b"x")


def test_embedded_default_is_a_folder_under_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.kernel.settings import reset_settings

    monkeypatch.setenv("STACKYARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("S3_BUCKET", raising=False)
    reset_settings()
    storage.reset_storage()
    try:
        chosen = storage.get_storage()
        assert isinstance(chosen, storage.LocalBlobStore)
        assert chosen.root == tmp_path / "blobs"
    finally:
        storage.reset_storage()
        reset_settings()
