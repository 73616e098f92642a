"""Feature flags in the SDK: the evaluation module shared with the server, and the flag client.

`FlagSet` evaluates a flag set exactly as the server does; `FlagClient` keeps one current through
WatchFlags. `centrum.sdk.flags.provider.CentrumProvider` plugs the client into OpenFeature (it
needs the optional `openfeature-sdk` package; nothing else here does).
"""

from centrum.sdk.flags._murmur import BUCKETS, bucket_of, murmur3_32, murmur3_32_pure
from centrum.sdk.flags._semver import semver_key
from centrum.sdk.flags._values import (
    as_number,
    dict_to_struct,
    kind_of,
    python_to_value,
    struct_to_dict,
    value_to_python,
)
from centrum.sdk.flags.client import FlagClient
from centrum.sdk.flags.evaluation import (
    EMPTY_CONTEXT,
    CompiledFlag,
    Evaluation,
    EvaluationContext,
    FlagParseError,
    FlagSet,
    compile_flag,
    compile_segment,
)

__all__ = [
    "BUCKETS",
    "EMPTY_CONTEXT",
    "CompiledFlag",
    "Evaluation",
    "EvaluationContext",
    "FlagClient",
    "FlagParseError",
    "FlagSet",
    "as_number",
    "bucket_of",
    "compile_flag",
    "compile_segment",
    "dict_to_struct",
    "kind_of",
    "murmur3_32",
    "murmur3_32_pure",
    "python_to_value",
    "semver_key",
    "struct_to_dict",
    "value_to_python",
]
