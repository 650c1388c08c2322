"""Stored files: keys cannot leave the storage, writes are atomic, and a staged file exists exactly
when the transaction that staged it commits — for the file storage, the memory storage and the S3
storage alike (the S3 storage against a fake S3: moto's server mode on loopback, see tests/fake_s3.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from market import create_app
from market.config import ConfigError
from market.storage import (
    S3_STAGING,
    FileStorage,
    MemoryStorage,
    S3Storage,
    StorageError,
    new_key,
    s3_storage,
    safe_key,
    stage,
)
from tests import fake_s3

s3_endpoint, s3_config = fake_s3.s3_endpoint, fake_s3.s3_config  # the fake S3's fixtures


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/abs/path", "contracts/../x", "contracts/.hidden", "a//b", "", "x\x00y", "目录/文件"],
)
def test_unsafe_keys_are_refused(key):
    with pytest.raises(ValueError):
        safe_key(key)


def test_new_keys_are_fresh_and_safe():
    a, b = new_key("contracts", ".pdf"), new_key("contracts", ".pdf")
    assert a != b and safe_key(a) == a and a.startswith("contracts/") and a.endswith(".pdf")


@pytest.fixture(params=["file", "memory", "s3"])
def store(request, tmp_path):
    if request.param == "s3":
        return s3_storage(request.getfixturevalue("s3_config"))
    return FileStorage(tmp_path / "uploads") if request.param == "file" else MemoryStorage()


def _leftovers(store) -> list[str]:
    """Temporary files or objects left behind by staging."""
    if isinstance(store, FileStorage):
        folder = store.path("contracts")
        return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.is_dir() else []
    if isinstance(store, S3Storage):
        page = store.client.list_objects_v2(Bucket=store.bucket, Prefix=f"{store.prefix}{S3_STAGING}/")
        return [o["Key"] for o in page.get("Contents", [])]
    return ["staged"] * store.staged


def test_write_read_delete(store):
    store.write("reports/a.csv", b"1,2")
    assert store.read("reports/a.csv") == b"1,2" and store.exists("reports/a.csv")
    assert [k for k, _ in store.keys("reports")] == ["reports/a.csv"]
    store.write("reports/a.csv", b"3,4")  # a write replaces
    assert store.read("reports/a.csv") == b"3,4"
    store.delete("reports/a.csv")
    assert store.read("reports/a.csv") is None and not store.exists("reports/a.csv")
    assert list(store.keys("reports")) == []


def test_file_storage_leaves_no_temporary_file(tmp_path):
    store = FileStorage(tmp_path)
    store.write("contracts/c.pdf", b"%PDF")
    assert sorted(p.name for p in (tmp_path / "contracts").iterdir()) == ["c.pdf"]


def test_a_full_disk_is_a_storage_error(tmp_path):
    (tmp_path / "contracts").write_text("a file where the folder should be")
    with pytest.raises(StorageError):
        FileStorage(tmp_path).write_temp("contracts/c.pdf", b"%PDF")


def _settled(app, store, action) -> tuple[bool, list[str]]:
    """Stage a file in a transaction, end it with `action`; whether the file exists, and any leftovers."""
    app.extensions["storage"] = store
    with app.app_context():
        session = Session(app.extensions["db.engine"])
        key = stage(session, new_key("contracts", ".pdf"), b"%PDF-1.4")
        action(session)
        session.close()
        return store.exists(key), _leftovers(store)


def test_a_staged_file_exists_after_commit(app, store):
    assert _settled(app, store, lambda s: s.commit()) == (True, [])


def test_a_staged_file_is_gone_after_rollback(app, store):
    assert _settled(app, store, lambda s: s.rollback()) == (False, [])


def test_a_staged_file_is_gone_when_the_session_closes_uncommitted(app, store):
    assert _settled(app, store, lambda s: None) == (False, [])


def test_a_file_staged_in_a_rolled_back_savepoint_is_gone(app, store):
    app.extensions["storage"] = store
    with app.app_context():
        session = Session(app.extensions["db.engine"])
        kept = stage(session, new_key("contracts", ".pdf"), b"kept")
        savepoint = session.begin_nested()
        dropped = stage(session, new_key("contracts", ".pdf"), b"dropped")
        savepoint.rollback()
        session.commit()
        session.close()
        assert store.read(kept) == b"kept" and not store.exists(dropped)
        assert _leftovers(store) == []


def test_missing_keys_read_as_nothing(store):
    assert store.read("reports/none.csv") is None and not store.exists("reports/none.csv")
    store.delete("reports/none.csv")  # deleting what is not there is fine
    assert list(store.keys("reports")) == []
    assert store.response("reports/none.csv", mimetype="text/csv", download_name="x.csv") is None


def test_keys_list_a_folder_not_its_sub_folders_nor_staged_files(store):
    store.write("reports/a.csv", b"1")
    store.write("reports/2026/b.csv", b"2")
    store.write_temp("reports/c.csv", b"3")  # staged, never promoted
    assert [k for k, _ in store.keys("reports")] == ["reports/a.csv"]
    assert not store.exists("reports/c.csv")


def test_the_download_is_an_attachment_with_the_name(app, store):
    store.write("contracts/c.pdf", b"%PDF-1.4 body")
    with app.test_request_context():
        resp = store.response("contracts/c.pdf", mimetype="application/pdf", download_name="合同 第1版.pdf")
        resp.direct_passthrough = False
        assert resp.get_data() == b"%PDF-1.4 body" and resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "%E5%90%88%E5%90%8C" in disposition


def test_unsafe_keys_are_refused_by_every_storage(store):
    for key in ("../x", "contracts/../../x", f"{S3_STAGING}/x"):
        with pytest.raises(ValueError):
            store.write(key, b"x")


def test_s3_failures_are_storage_errors(s3_config):
    store = s3_storage(dict(s3_config, S3_BUCKET="no-such-bucket-here"))
    with pytest.raises(StorageError):
        store.write_temp("contracts/c.pdf", b"%PDF")


def test_s3_keys_live_under_the_prefix(s3_config):
    store = s3_storage(dict(s3_config, S3_PREFIX="site-a/"))
    store.write("reports/a.csv", b"1")
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["site-a/reports/a.csv"]
    assert [k for k, _ in store.keys("reports")] == ["reports/a.csv"]


def test_s3_without_a_bucket_is_a_configuration_error():
    with pytest.raises(ConfigError, match="S3_BUCKET"):
        s3_storage({"STORAGE": "s3"})


def test_the_storage_setting_chooses_the_storage(app_config, s3_config):
    assert isinstance(create_app(dict(app_config, **s3_config)).extensions["storage"], S3Storage)
    assert isinstance(create_app(dict(app_config, STORAGE="file")).extensions["storage"], FileStorage)
    with pytest.raises(ConfigError, match="STORAGE"):
        create_app(dict(app_config, STORAGE="ftp"))
