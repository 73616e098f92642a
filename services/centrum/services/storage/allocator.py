"""Keeps streaming transfers from inflating the server's resident memory (glibc malloc).

Transfers allocate many short-lived buffers of 1-16 MiB (gRPC messages, encrypted chunks, S3
parts and their HTTP requests) from several threads. glibc raises its mmap threshold to the size
of each large buffer freed, after which such buffers come from per-thread heaps that stay
resident long after the transfer: a 1 GiB multipart upload to S3 grew the server by over
130 MiB. A fixed threshold keeps buffers of 4 MiB and more (S3 parts) in their own mappings,
returned on free; 1 MiB messages stay on the heaps, where reusing them is cheaper than mapping
each anew (a 1 MiB threshold cost downloads about a third of their speed).

Pinning the threshold also stops glibc from raising its trim threshold along with it (to twice
the mmap threshold), leaving it at 128 KiB: a heap then gives every freed message back to the
kernel and faults it in again for the next one. Some server processes did so for every buffer
(250-750 page faults per MiB downloaded, twice the CPU per byte), depending on where their
buffers happened to fall; the trim threshold is pinned at twice the mmap threshold too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform

__all__ = ["MMAP_THRESHOLD_BYTES", "pin_mmap_threshold"]

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
"""Allocations of at least this size get their own mapping."""

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers in glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fixes glibc's mmap threshold, and its trim threshold at twice that, for this process;
    whether they were set.

    Leaves the allocator alone off glibc and when the operator tuned it through the
    MALLOC_MMAP_THRESHOLD_ environment variable (and the trim threshold when through
    MALLOC_TRIM_THRESHOLD_).
    """
    if platform.libc_ver()[0] != "glibc" or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
            libc.mallopt(_M_TRIM_THRESHOLD, 2 * threshold)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))
    return False
