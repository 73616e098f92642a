"""The flag store interface: what the domain needs from wherever flags and segments live."""

from __future__ import annotations

from typing import Protocol

from centrum.config.v1 import flag_service_pb2 as pb

__all__ = [
    "FlagStore",
    "ObjectExists",
    "ObjectMissing",
    "SegmentInUse",
    "SegmentsMissing",
    "StoreLimitReached",
    "VersionMismatch",
    "referenced_segments",
]


class VersionMismatch(Exception):
    """A compare-and-set found another version (0 when the object does not exist)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class ObjectExists(Exception):
    """A create-only write found the object already there."""


class ObjectMissing(Exception):
    """The object to delete does not exist."""


class SegmentsMissing(Exception):
    """A flag references segments that do not exist."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


class SegmentInUse(Exception):
    """A segment to delete is still referenced by flags."""

    def __init__(self, flag_keys: list[str]) -> None:
        super().__init__(", ".join(flag_keys))
        self.flag_keys = flag_keys


class StoreLimitReached(Exception):
    """The environment holds as many flags as it may."""


def referenced_segments(flag: pb.Flag) -> set[str]:
    """The segment keys a flag's IN_SEGMENT conditions name."""
    return {
        value.string_value
        for rule in flag.rules
        for condition in rule.conditions
        if condition.operator == pb.CONDITION_OPERATOR_IN_SEGMENT
        for value in condition.values
    }


class FlagStore(Protocol):
    """Flags and segments per tenant and environment, each change numbered by one revision counter.

    Every write takes the next revision of its (tenant, environment) and appends a FlagChange to
    the change log in the same transaction; writers are serialised, so revisions commit in order.
    Backend failures raise `centrum.services.db.BackendUnavailable`.
    """

    async def get_flag(self, tenant: str, environment: str, key: str) -> pb.Flag | None:
        """The flag, or None."""
        ...

    async def get_segment(self, tenant: str, environment: str, key: str) -> pb.Segment | None:
        """The segment, or None."""
        ...

    async def list_flags(
        self, tenant: str, environment: str, prefix: str, after: str, limit: int
    ) -> tuple[list[pb.Flag], int]:
        """Up to `limit` flags with the prefix, keys after `after`, in order; and the revision."""
        ...

    async def list_segments(
        self, tenant: str, environment: str, after: str, limit: int
    ) -> list[pb.Segment]:
        """Up to `limit` segments with a key after `after`, in key order."""
        ...

    async def put_flag(
        self, tenant: str, flag: pb.Flag, *, expected_version: int, create_only: bool, actor: str
    ) -> pb.FlagChange:
        """Creates or replaces a flag (environment and key taken from it)."""
        ...

    async def delete_flag(
        self, tenant: str, environment: str, key: str, *, expected_version: int, actor: str
    ) -> pb.FlagChange:
        """Deletes a flag; ObjectMissing when absent."""
        ...

    async def put_segment(
        self,
        tenant: str,
        segment: pb.Segment,
        *,
        expected_version: int,
        create_only: bool,
        actor: str,
    ) -> pb.FlagChange:
        """Creates or replaces a segment (environment and key taken from it)."""
        ...

    async def delete_segment(
        self, tenant: str, environment: str, key: str, *, expected_version: int, actor: str
    ) -> pb.FlagChange:
        """Deletes a segment; ObjectMissing when absent, SegmentInUse when referenced."""
        ...

    async def snapshot(self, tenant: str, environment: str) -> pb.FlagSetSnapshot:
        """Every flag and segment of the environment at one revision."""
        ...

    async def revision(self, tenant: str, environment: str) -> int:
        """The environment's current revision (0 before its first change)."""
        ...

    async def changes_since(
        self, tenant: str, environment: str, revision: int, limit: int
    ) -> list[pb.FlagChange] | None:
        """Up to `limit` changes after `revision` in order; None when no longer retained."""
        ...
