"""S3 as the stand-in's engines read and write it (SageMaker jobs, endpoints): URIs, prefixes to and from
folders, model tarballs."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any


def split_s3_uri(uri: str, field: str = "S3Uri") -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key); a clear error naming `field` otherwise."""
    if not isinstance(uri, str) or not uri.startswith("s3://") or len(uri) <= 5:
        raise ValueError(f"{field}: expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"{field}: the URI {uri!r} names no bucket")
    return bucket, key


def download_prefix(s3: Any, uri: str, dest: Path, field: str = "S3Uri") -> list[Path]:
    """Copy every object under `uri` (an object or a prefix, as S3Prefix inputs do) into `dest`."""
    bucket, prefix = split_s3_uri(uri, field)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    paginator = s3.get_paginator("list_objects_v2")
    base = prefix.rstrip("/")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            rel = key[len(base) :].lstrip("/") if base else key
            if not rel:
                rel = key.rsplit("/", 1)[-1]
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            written.append(target)
    if not written:
        raise FileNotFoundError(f"{field}: no object found under {uri}; upload the data first or fix the URI")
    return written


def upload_folder(s3: Any, folder: Path, uri: str, field: str = "S3Uri") -> list[str]:
    """Upload every file below `folder` under the prefix `uri`; returns the keys written."""
    bucket, prefix = split_s3_uri(uri, field)
    base = prefix.rstrip("/")
    keys = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        key = f"{base}/{rel}" if base else rel
        s3.upload_file(str(path), bucket, key)
        keys.append(key)
    return keys


def read_object(s3: Any, uri: str, field: str = "S3Uri") -> bytes:
    bucket, key = split_s3_uri(uri, field)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def tar_folder(folder: Path) -> bytes:
    """A gzipped tarball of the folder's content (members relative to it, as SageMaker packs model.tar.gz)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(str(path), arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buf.getvalue()


def untar_bytes(data: bytes, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        tar.extractall(dest, filter="data")
