"""Stored files: contract PDFs, import reports, and whatever a feature keeps beside its rows (images,
data-room documents, evidence packs).

Files are named by keys such as ``contracts/3f…e1.pdf``: a folder and a name, checked by `safe_key`,
so a key can never point outside the storage. `FileStorage` keeps them under a base folder
(``UPLOAD_DIR``) and writes atomically (a temporary file renamed into place); `S3Storage` keeps them in
an S3-compatible bucket (``STORAGE = "s3"``, see `init_app`); `MemoryStorage` keeps them in a dict for
tests (``STORAGE = "memory"``).

`stage(session, key, data)` ties a file to a database transaction: it is written before the commit
(so a full disk refuses the row instead of committing a row without its file), moved into place when
the session commits, and deleted when the transaction ends any other way — a file exists exactly
when its row does.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import boto3
import sqlalchemy as sa
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, current_app, send_file
from sqlmodel import Session

from market.config import ConfigError

_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageError(OSError):
    """The storage could not keep or give back a file."""


def safe_key(key: str) -> str:
    """`key` when it is one or more plain path parts (letters, digits, . _ -, not starting with a dot),
    else ValueError: no absolute path, no "..", no hidden or temporary names."""
    parts = key.split("/")
    if not parts or not all(_PART.match(p) for p in parts) or any(p in (".", "..") for p in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def new_key(folder: str, suffix: str) -> str:
    """A fresh, unguessable key in `folder` (a random name with `suffix`, e.g. ".pdf")."""
    return safe_key(f"{folder}/{uuid.uuid4().hex}{suffix}")


class Storage(Protocol):
    def write(self, key: str, data: bytes) -> None: ...
    def read(self, key: str) -> bytes | None: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def keys(self, folder: str) -> Iterator[tuple[str, float]]: ...
    def write_temp(self, key: str, data: bytes) -> str: ...
    def promote(self, temp: str, key: str) -> None: ...
    def discard(self, temp: str) -> None: ...
    def response(self, key: str, *, mimetype: str, download_name: str) -> Response | None: ...


class FileStorage:
    """Files under `base`; writes go to a temporary name in the same folder and are renamed into place."""

    def __init__(self, base: str | Path) -> None:
        self.base = Path(base)

    def path(self, key: str) -> Path:
        return self.base.joinpath(*safe_key(key).split("/"))

    def write(self, key: str, data: bytes) -> None:
        self.promote(self.write_temp(key, data), key)

    def write_temp(self, key: str, data: bytes) -> str:
        final = self.path(key)
        temp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
            raise StorageError(str(exc)) from exc
        return str(temp)

    def promote(self, temp: str, key: str) -> None:
        os.replace(temp, self.path(key))  # same folder: atomic, and nothing to run out of

    def discard(self, temp: str) -> None:
        Path(temp).unlink(missing_ok=True)

    def read(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self, folder: str) -> Iterator[tuple[str, float]]:
        """(key, modification time) of the files in `folder` (temporary files excluded)."""
        root = self.path(folder)
        if not root.is_dir():
            return
        for entry in root.iterdir():
            if entry.is_file() and not entry.name.startswith("."):
                try:
                    yield f"{folder}/{entry.name}", entry.stat().st_mtime
                except FileNotFoundError:  # removed meanwhile by another process
                    continue

    def response(self, key: str, *, mimetype: str, download_name: str) -> Response | None:
        path = self.path(key)
        if not path.is_file():
            return None
        return send_file(path, mimetype=mimetype, as_attachment=True, download_name=download_name)


class MemoryStorage:
    """Files in a dict (tests; a process's files are gone when it ends)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, float]] = {}
        self._temp: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def write(self, key: str, data: bytes) -> None:
        with self._lock:
            self.files[safe_key(key)] = (bytes(data), time.time())

    def write_temp(self, key: str, data: bytes) -> str:
        temp = f"{safe_key(key)}#{uuid.uuid4().hex}"
        with self._lock:
            self._temp[temp] = bytes(data)
        return temp

    def promote(self, temp: str, key: str) -> None:
        with self._lock:
            self.files[safe_key(key)] = (self._temp.pop(temp), time.time())

    def discard(self, temp: str) -> None:
        with self._lock:
            self._temp.pop(temp, None)

    def read(self, key: str) -> bytes | None:
        entry = self.files.get(safe_key(key))
        return entry[0] if entry else None

    def delete(self, key: str) -> None:
        with self._lock:
            self.files.pop(safe_key(key), None)

    def exists(self, key: str) -> bool:
        return safe_key(key) in self.files

    def keys(self, folder: str) -> Iterator[tuple[str, float]]:
        prefix = safe_key(folder) + "/"
        for key, (_data, mtime) in list(self.files.items()):
            if key.startswith(prefix) and "/" not in key[len(prefix) :]:
                yield key, mtime

    @property
    def staged(self) -> int:
        """Files written but neither promoted nor discarded (a test checks none are left behind)."""
        return len(self._temp)

    def response(self, key: str, *, mimetype: str, download_name: str) -> Response | None:
        data = self.read(key)
        if data is None:
            return None
        return _attachment(data, mimetype, download_name)


def _attachment(data, mimetype: str, download_name: str, length: int | None = None) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
    if length is not None:
        response.headers["Content-Length"] = str(length)
    return response


#: the folder of S3Storage's temporary objects: "_" never starts a `safe_key` part, so no key and no
#: folder listing can ever meet one (a bucket lifecycle rule on it clears what a crash left behind)
S3_STAGING = "_staging"
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode), under `prefix`.

    A single PUT is atomic in S3 (an object appears whole or not at all). Staging writes the object under
    ``_staging/<random>/<key>`` first; `promote` copies it to its key and deletes the temporary one,
    `discard` deletes it, so `stage` gives the same guarantee as with files: the object exists under its
    key exactly when the row that names it was committed."""

    def __init__(self, client, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + safe_key(key)

    def _call(self, method: str, **kwargs):
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"S3 {method} failed: {exc}") from exc

    @staticmethod
    def _missing(exc: StorageError) -> bool:
        cause = exc.__cause__
        return isinstance(cause, ClientError) and str(cause.response.get("Error", {}).get("Code")) in _MISSING

    def write(self, key: str, data: bytes) -> None:
        self._call("put_object", Key=self._key(key), Body=bytes(data))

    def write_temp(self, key: str, data: bytes) -> str:
        temp = f"{self.prefix}{S3_STAGING}/{uuid.uuid4().hex}/{safe_key(key)}"
        self._call("put_object", Key=temp, Body=bytes(data))
        return temp

    def promote(self, temp: str, key: str) -> None:
        self._check_temp(temp)
        self._call("copy_object", Key=self._key(key), CopySource={"Bucket": self.bucket, "Key": temp})
        self._call("delete_object", Key=temp)

    def discard(self, temp: str) -> None:
        self._check_temp(temp)
        with contextlib.suppress(StorageError):  # at worst a stray temporary object, outside every folder
            self._call("delete_object", Key=temp)

    def _check_temp(self, temp: str) -> None:
        if not temp.startswith(f"{self.prefix}{S3_STAGING}/"):
            raise ValueError(f"not a staged object: {temp!r}")

    def read(self, key: str) -> bytes | None:
        try:
            obj = self._call("get_object", Key=self._key(key))
        except StorageError as exc:
            if self._missing(exc):
                return None
            raise
        return obj["Body"].read()

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=self._key(key))  # deleting a missing key is not an error in S3

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=self._key(key))
        except StorageError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def keys(self, folder: str) -> Iterator[tuple[str, float]]:
        """(key, modification time) of the objects directly in `folder` (not in its sub-folders)."""
        prefix = self._key(folder) + "/"
        token = None
        while True:
            page = self._call(
                "list_objects_v2",
                Prefix=prefix,
                Delimiter="/",
                **({"ContinuationToken": token} if token else {}),
            )
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix) :], obj["LastModified"].timestamp()
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def response(self, key: str, *, mimetype: str, download_name: str) -> Response | None:
        """The object as a download, streamed from the bucket."""
        try:
            obj = self._call("get_object", Key=self._key(key))
        except StorageError as exc:
            if self._missing(exc):
                return None
            raise
        body = obj["Body"]
        return _attachment(body.iter_chunks(64 * 1024), mimetype, download_name, obj.get("ContentLength"))


def s3_storage(config) -> S3Storage:
    """An S3Storage from the app's settings; credentials from S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY
    when set, else boto3's standard chain (AWS_* variables, ~/.aws, an instance role)."""
    bucket = config.get("S3_BUCKET")
    if not bucket:
        raise ConfigError("STORAGE=s3 需要设置 S3_BUCKET（存放上传文件的存储桶名称）")
    endpoint = config.get("S3_ENDPOINT_URL") or None
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        # S3-compatible services at their own address (MinIO and the like) are addressed by path
        config=BotoConfig(s3={"addressing_style": "path"} if endpoint else {}, retries={"max_attempts": 3}),
    )
    return S3Storage(client, bucket, config.get("S3_PREFIX") or "")


def init_app(app: Flask) -> None:
    """The app's storage: in memory when STORAGE is "memory", an S3-compatible bucket when it is "s3",
    else files under UPLOAD_DIR."""
    kind = app.config.get("STORAGE") or "file"
    if kind == "memory":
        app.extensions["storage"] = MemoryStorage()
    elif kind == "s3":
        app.extensions["storage"] = s3_storage(app.config)
    elif kind == "file":
        app.extensions["storage"] = FileStorage(app.config["UPLOAD_DIR"])
    else:
        raise ConfigError(f"STORAGE 的取值“{kind}”无效：只能是 file（默认）、s3 或 memory")


def storage(app: Flask | None = None) -> Storage:
    return (app or current_app).extensions["storage"]


# --- files that follow a transaction -----------------------------------------------------------------

_PENDING = "storage.pending"


@dataclass
class _Staged:
    owner: object  # the (possibly nested) transaction the file was staged in
    store: Storage
    temp: str
    key: str


def stage(session: Session, key: str, data: bytes) -> str:
    """Write `data` for `key` now, put it in place when `session` commits, delete it otherwise.

    Raises StorageError when the storage cannot take it (full or read-only disk): before the commit,
    so the caller can refuse the operation with nothing half-done."""
    store = storage()
    temp = store.write_temp(key, data)
    # the file belongs to a transaction: begin one if none is open yet, so its end settles the file
    owner = session.get_nested_transaction() or session.get_transaction() or session.begin()
    _pending(session).append(_Staged(owner, store, temp, key))
    return key


def _pending(session: Session) -> list[_Staged]:
    """The session's staged files; the listeners that settle them are attached once per session
    (removing listeners while one runs is not allowed)."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        sa.event.listen(session, "after_commit", _place)
        sa.event.listen(session, "after_soft_rollback", _drop_rolled_back)
        sa.event.listen(session, "after_transaction_end", _drop_unsettled)
    return pending


def _place(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: its files wait for the real commit
    pending = session.info[_PENDING]
    while pending:
        staged = pending.pop()
        try:
            staged.store.promote(staged.temp, staged.key)
        except OSError:  # the row is committed; say so loudly rather than fail the request after it
            current_app.logger.exception("stored file %s could not be moved into place", staged.key)


def _drop_rolled_back(session: Session, rolled_back) -> None:
    pending = session.info[_PENDING]
    for staged in list(pending):
        owner = staged.owner
        while owner is not None and owner is not rolled_back:
            owner = owner.parent
        if owner is rolled_back:  # staged in the transaction that rolled back, or inside it
            pending.remove(staged)
            staged.store.discard(staged.temp)


def _drop_unsettled(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    pending = session.info[_PENDING]
    while pending:  # the outermost transaction ended without a commit (closed, or a failed commit)
        staged = pending.pop()
        staged.store.discard(staged.temp)
