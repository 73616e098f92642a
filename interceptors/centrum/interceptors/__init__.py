"""The uniform server-side chain: every RPC's policy from the contract, applied to every call.

Modules, one per concern: `chain` (the runner and selectors), `request_context`,
`error_mapping`, `metrics`, `logging`, `tracing`, `admission` (calls in progress), `auth` (with
`credentials`), `ratelimit`, `validation`, `audit`; plus `errors` (one exception per status),
`context` (the principal and request context of the running call), `policy` (the registry read
from the descriptors), `redaction` (field sensitivity) and `encoded` (responses a handler
has already serialized).
"""
