"""Builds the storage service: settings -> backends -> domain -> servicer and HTTP endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from google.protobuf import message

from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.lifecycle import cancel_and_wait
from centrum.services.runtime import Probe, ServiceBundle, ServiceContext
from centrum.services.storage.allocator import pin_mmap_threshold
from centrum.services.storage.blobs import BlobStore, LocalBlobStore, S3BlobStore
from centrum.services.storage.buckets import Buckets
from centrum.services.storage.httpd import ObjectHttpEndpoint
from centrum.services.storage.keywrap import KeyWrapper, LocalKeyWrapper, TransitKeyWrapper
from centrum.services.storage.naming import key_violations
from centrum.services.storage.objects import Objects
from centrum.services.storage.scanning import ClamdScanner, EicarScanner, NoScanner, Scanner
from centrum.services.storage.servicer import StorageServicer
from centrum.services.storage.signing import UrlSigner, load_signing_key
from centrum.services.storage.sweeper import BlobSweeper

__all__ = ["build"]

_SERVICE = "centrum.storage.v1.StorageService"


def _blob_store(context: ServiceContext) -> BlobStore:
    settings = context.settings
    storage = settings.storage
    use_s3 = storage.backend == "s3" or (storage.backend == "auto" and settings.s3_endpoint_url)
    if use_s3:
        return S3BlobStore(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=(
                settings.s3_secret_access_key.get_secret_value()
                if settings.s3_secret_access_key
                else None
            ),
            bucket_prefix=settings.s3_bucket_prefix,
            part_size=storage.s3_part_size,
            concurrency=storage.s3_concurrency,
            connect_timeout_s=storage.s3_connect_timeout_s,
            read_timeout_s=storage.s3_read_timeout_s,
            multipart_threshold=storage.s3_multipart_threshold_bytes,
        )
    return LocalBlobStore(storage.local_root or context.data_dir / "objects")


def _key_wrapper(context: ServiceContext) -> KeyWrapper | None:
    settings = context.settings
    if not settings.storage.encryption:
        return None
    if settings.vault_addr and settings.vault_token is not None:
        return TransitKeyWrapper.connect(
            settings.vault_addr,
            settings.vault_token.get_secret_value(),
            settings.storage.transit_key,
            settings.vault_transit_mount,
        )
    return LocalKeyWrapper(context.master_key)


def _scanner(context: ServiceContext) -> Scanner:
    storage = context.settings.storage
    if storage.scanner == "clamd":
        return ClamdScanner(storage.clamd_address, storage.clamd_timeout_s)
    if storage.scanner == "none":
        return NoScanner()
    return EicarScanner()


def _key_validator(field: str = "key") -> object:
    def validate(request: message.Message) -> Sequence[FieldViolation]:
        return key_violations(getattr(request, field), field)

    return validate


async def build(context: ServiceContext) -> ServiceBundle:
    """The storage service's servicer, validators and probes.

    Nothing here waits on a backend; the start hook creates the transit key when missing,
    starts the sweeper, loads the URL signing key and opens the HTTP endpoint once the server
    is up.
    """
    settings = context.settings.storage
    pin_mmap_threshold()
    blobs = _blob_store(context)
    buckets = Buckets(context.engine, settings)
    scanner = _scanner(context)
    wrapper = _key_wrapper(context)
    objects = Objects(
        engine=context.engine,
        buckets=buckets,
        blobs=blobs,
        key_wrapper=wrapper,
        scanner=scanner,
        scanner_name=settings.scanner,
        settings=settings,
        audit=context.audit,
    )
    servicer = StorageServicer(buckets, objects, signer=None)
    sweeper = BlobSweeper(
        engine=context.engine,
        blobs=blobs,
        grace_s=settings.replaced_blob_grace_s,
        stale_upload_s=settings.stale_upload_s,
        in_use=lambda: objects.in_use,
    )
    tasks: list[asyncio.Task[None]] = []
    endpoints: list[ObjectHttpEndpoint] = []
    probes: list[tuple[str, Probe]] = [("object_store", blobs.ping)]
    if isinstance(scanner, ClamdScanner):
        probes.append(("clamd", scanner.ping))

    async def start() -> None:
        if isinstance(wrapper, TransitKeyWrapper):
            await wrapper.ensure_key()
        if settings.sweep_interval_s:
            tasks.append(
                asyncio.create_task(sweeper.run(settings.sweep_interval_s), name="storage-sweeper")
            )
        if not settings.http_listen:
            return
        signer = UrlSigner(
            await load_signing_key(context.engine, context.master_key),
            settings.http_base_url or f"http://{settings.http_listen}",
        )
        endpoint = ObjectHttpEndpoint(objects, signer, settings.http_listen)
        port = await endpoint.start()
        endpoints.append(endpoint)
        if not settings.http_base_url:
            signer.base_url = f"http://{settings.http_listen.rpartition(':')[0]}:{port}"
        objects.public_url = signer.public_url
        servicer.signer = signer

    async def stop() -> None:
        for task in tasks:
            await cancel_and_wait(task)
        for endpoint in endpoints:
            await endpoint.stop()

    validators = {
        f"/{_SERVICE}/{method}": _key_validator()
        for method in (
            "Download",
            "StatObject",
            "DeleteObject",
            "CreateSignedUrl",
            "SetObjectAccess",
        )
    }
    return ServiceBundle(
        servicers={_SERVICE: servicer},
        validators=validators,  # type: ignore[arg-type]
        probes=probes,
        start=start,
        stop=stop,
        extra={"storage.objects": objects, "storage.http": endpoints, "storage.sweeper": sweeper},
    )
