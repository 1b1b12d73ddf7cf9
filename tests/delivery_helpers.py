"""Settings and small helpers shared by the dispatcher and failover tests."""

from __future__ import annotations

import time
from typing import Any

from alertmail.core.settings import ServerSettings, Settings

PASSWORD = "S3cret!"
USERNAME = "notify@example.com"


def server_fields(server: Any = None, **fields: Any) -> dict[str, Any]:
    """Return the fields of one server: host and port of ``server`` (any object with
    ``host`` and ``port``), a 3 s timeout, enabled, then ``fields`` on top."""
    values: dict[str, Any] = {"enabled": True, "timeout_s": 3}
    if server is not None:
        values.update(host=server.host, port=server.port)
    values.update(fields)
    return values


def make_settings(
    primary: dict[str, Any] | None = None,
    secondary: dict[str, Any] | None = None,
    **general: Any,
) -> Settings:
    """Return settings with From alerts@example.com, Errors ops@example.com and Reports
    reports@example.com, overridden by ``general``; a server left out is disabled."""
    values: dict[str, Any] = {
        "general.from_address": "alerts@example.com",
        "general.errors_to": "ops@example.com",
        "general.reports_to": "reports@example.com",
    }
    values.update({f"general.{key}": value for key, value in general.items()})
    for name, fields in (("primary", primary), ("secondary", secondary)):
        values[f"{name}.enabled"] = fields is not None
        for key, value in (fields or {}).items():
            values[f"{name}.{key}"] = value
    return Settings(values)


def primary_server(server: Any = None, **fields: Any) -> ServerSettings:
    """Return the primary ``ServerSettings`` for ``server`` with ``fields`` on top."""
    return make_settings(primary=server_fields(server, **fields)).server("primary")


def password_is(password: str):
    """Return a ``password_for`` that gives ``password`` for any server."""
    return lambda server_name: password


class Stopwatch:
    """Measures the seconds a ``with`` block took, in ``elapsed``."""

    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.elapsed = time.monotonic() - self.start
