"""Settings of the storage service (the `storage` table of Centrum's settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BucketDefaults", "ScannerName", "StorageSettings"]

ScannerName = Literal["eicar", "clamd", "none"]


class BucketDefaults(BaseModel):
    """Settings a new bucket takes for the fields its CreateBucket request leaves unset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Largest object of a new bucket; zero means the global max_object_size_bytes.
    max_object_size_bytes: int = Field(default=0, ge=0)
    # Media types a new bucket accepts ("image/png", "image/*"); empty accepts any.
    allowed_content_types: list[str] = Field(default_factory=list)


class StorageSettings(BaseModel):
    """Settings of the storage service; `CENTRUM_STORAGE__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Largest object any bucket accepts (bytes); buckets may only lower it.
    max_object_size_bytes: int = Field(default=5 * 1024**3, ge=1)
    # Defaults of the settings of new buckets.
    bucket_defaults: BucketDefaults = Field(default_factory=BucketDefaults)
    # Media types accepted in every bucket ("image/*" allowed); empty accepts any.
    allowed_content_types: list[str] = Field(default_factory=list)
    # Most bytes one tenant may store; unset means no quota. tenant_quota_bytes overrides it
    # per tenant.
    quota_bytes_per_tenant: int | None = Field(default=None, ge=0)
    tenant_quota_bytes: dict[str, int] = Field(default_factory=dict)

    # Encrypt object bytes at rest (envelope encryption, AES-256-GCM in segments).
    encryption: bool = True
    # Plaintext bytes per encrypted segment; a ranged read decrypts whole segments.
    segment_size: int = Field(default=64 * 1024, ge=4096, le=16 * 1024 * 1024)
    # Transit key wrapping data keys when vault_addr is set (created when missing).
    transit_key: str = "centrum-storage"

    # Backend of object bytes: "auto" is S3 when s3_endpoint_url is set, else the local disk.
    backend: Literal["auto", "local", "s3"] = "auto"
    # Root directory of the local backend; unset means data_dir/objects.
    local_root: Path | None = None
    # S3 multipart part size (bytes) and parts uploaded concurrently per upload.
    s3_part_size: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    s3_concurrency: int = Field(default=2, ge=1, le=16)
    # Objects of a known size from s3_part_size up to this many stored bytes go up as one PUT
    # streamed from the upload; larger ones as multipart uploads (S3 caps one PUT at 5 GiB).
    s3_multipart_threshold_bytes: int = Field(
        default=5 * 1024**3, ge=5 * 1024 * 1024, le=5 * 1024**3
    )
    # Seconds an S3 call may take to connect / to answer before the store counts as down.
    s3_connect_timeout_s: float = Field(default=2.0, gt=0)
    s3_read_timeout_s: float = Field(default=30.0, gt=0)

    # Address (host:port) of the HTTP endpoint serving signed and public URLs; unset disables
    # it (CreateSignedUrl then answers FAILED_PRECONDITION unless S3 can presign).
    http_listen: str | None = None
    # Base URL the endpoint is reached at from outside; unset means http://<http_listen>.
    http_base_url: str | None = None

    # Malware scanner of uploads: the built-in EICAR signature check, a clamd, or none.
    scanner: ScannerName = "eicar"
    # clamd address: "host:port" (TCP) or "unix:/path/to/clamd.ctl" (unix socket).
    clamd_address: str = "127.0.0.1:3310"
    # Seconds a clamd scan may take once the last byte was sent.
    clamd_timeout_s: float = Field(default=30.0, gt=0)
    # Seconds the bytes of an overwritten object stay readable, so that downloads which began
    # on the old version finish; 0 deletes them at once.
    replaced_blob_grace_s: float = Field(default=60.0, ge=0)
    # Seconds between sweeps of the blob store for orphan bytes (unreferenced for the grace
    # period above) and abandoned uploads; 0 turns the sweeper off.
    sweep_interval_s: float = Field(default=300.0, ge=0)
    # Seconds after which an unfinished upload no process of this server is still writing (a
    # temp file, an S3 multipart upload) counts as abandoned and is removed by the sweeper.
    stale_upload_s: float = Field(default=24 * 3600.0, ge=0)
