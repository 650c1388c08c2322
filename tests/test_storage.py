"""Stored files: keys cannot leave the storage, writes are atomic, and a staged file exists exactly
when the transaction that staged it commits — for the file storage and the memory storage alike."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from market.storage import FileStorage, MemoryStorage, StorageError, new_key, safe_key, stage


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


@pytest.fixture(params=["file", "memory"])
def store(request, tmp_path):
    return FileStorage(tmp_path / "uploads") if request.param == "file" else MemoryStorage()


def test_write_read_delete(store):
    store.write("reports/a.csv", b"1,2")
    assert store.read("reports/a.csv") == b"1,2" and store.exists("reports/a.csv")
    assert [k for k, _ in store.keys("reports")] == ["reports/a.csv"]
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
        left = (
            [p.name for p in store.path("contracts").iterdir() if p.name.startswith(".")]
            if isinstance(store, FileStorage)
            else ["staged"] * store.staged
        )
        return store.exists(key), left


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
