"""Notices of the E-mail Options dialog that do not block OK: the first-run hint and delivery warnings."""

from __future__ import annotations

from alertmail.core.settings import SERVERS, Settings

FIRST_RUN_HINT = "Start here: enter your mail server's name, then the recipients on the General tab."
NO_SERVER_WARNING = "No server is enabled: alerts are kept in the queue and not sent."
NO_RECIPIENTS_WARNING = (
    "No recipients: Errors and Reports/Stats are both empty, so alerts have nowhere to go."
)


def delivery_warnings(values: Settings) -> dict[str, str]:
    """Return the warnings about ``values`` that let nothing be delivered, by tab key.

    These do not block OK: an administrator may save such settings on
    purpose, for example to hold the queue while a server is replaced.
    """
    warnings = {}
    if not any(values[f"{server}.enabled"] for server in SERVERS):
        for server in SERVERS:
            warnings[server] = NO_SERVER_WARNING
    if not values["general.errors_to"] and not values["general.reports_to"]:
        warnings["general"] = NO_RECIPIENTS_WARNING
    return warnings
