"""Queue commands of the ``alertmail`` command line: ``send`` and ``queue``.

Scripts call ``alertmail send`` often, so its path imports neither Qt,
``keyring``, ``tomlkit``, ``smtplib`` nor ``ssl``. The queue module is
imported only when a command runs. ``parse_send_arguments`` reads the usual
forms of ``send``'s arguments without ``argparse``, so that
``alertmail.core.cli.main`` can run ``send`` without building its parser.

Errors follow the exit statuses of ``alertmail.core.cli``: a ``SettingError``
(invalid settings or input, naming the value) exits with 2, and any other
``AlertmailError`` (the queue could not be written, no message with that id)
exits with 1.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

from . import store
from .errors import SettingError
from .queue_records import KIND_TITLES, STATES, QueuedMessage
from .settings import Settings

if TYPE_CHECKING:
    import argparse

# States 'queue list' shows without --state: what still needs attention.
UNSENT_STATES = ("queued", "sending", "failed")
# Column widths of 'queue list'; longer text is cut with '...'.
RECIPIENTS_WIDTH = 40
SUBJECT_WIDTH = 50


def _print_error(message: str) -> None:
    print(f"alertmail: {message}", file=sys.stderr)


# --- send -------------------------------------------------------------------


def _read_body(path: str | None) -> str:
    """Return the body from ``path``, or from standard input for ``None`` or "-".

    The text is kept exactly, line endings included. Bytes that are not
    UTF-8 are replaced with U+FFFD and a warning is printed, so an alert
    with one stray byte still goes out.
    """
    if path is None or path == "-":
        if sys.stdin is None:
            return ""
        if sys.stdin.isatty():
            print("Type the message body, then press Ctrl-D on a line of its own.", file=sys.stderr)
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise SettingError(
                "--body-file", path,
                "the file does not exist; give the path of a text file, or leave --body-file "
                "out to read the body from standard input",
            ) from None
        except OSError as error:
            raise SettingError(
                "--body-file", path, f"the file cannot be read ({error.strerror}); give a readable text file"
            ) from None

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        _print_error(
            f"warning: the body is not valid UTF-8 (first invalid byte at offset {error.start}); "
            "invalid bytes are replaced with U+FFFD"
        )
        return data.decode("utf-8", "replace")


def _warn_if_held(settings: Settings) -> None:
    """Print a note when the settings keep the mailer from sending the new message."""
    if not settings["mailer.enabled"]:
        _print_error(
            "note: the mailer is stopped (mailer.enabled = false), so the message stays queued "
            "until it is started"
        )
    if not settings["primary.enabled"] and not settings["secondary.enabled"]:
        _print_error(
            "note: no mail server is enabled (primary.enabled and secondary.enabled are false), "
            "so the message stays queued until one is"
        )


def _send(args: argparse.Namespace) -> int:
    from .queue import Queue

    body = _read_body(args.body_file)
    # The full address syntax check loads email_validator, about 20 ms, so
    # it is left to the mailer (see Queue.add and to_outgoing).
    loaded = store.load_settings(defer_address_checks=True)
    if loaded.problem:
        _print_error(loaded.problem)
    with Queue() as queue:
        new_id = queue.add(args.kind, args.subject, body, loaded.settings)
    print(new_id)
    _warn_if_held(loaded.settings)
    return 0


# --- queue ------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _short_time(stamp: str) -> str:
    """Return an ISO 8601 UTC time as ``YYYY-MM-DD HH:MM:SSZ``."""
    return stamp.replace("T", " ").replace("+00:00", "Z")


def _table(messages: list[QueuedMessage]) -> str:
    header = ("ID", "STATE", "KIND", "ATTEMPTS", "QUEUED AT (UTC)", "RECIPIENTS", "SUBJECT", "LAST ERROR")
    rows = [header]
    for message in messages:
        rows.append((
            str(message.id),
            message.state,
            message.kind,
            str(message.attempts),
            _short_time(message.queued_at),
            _cut(", ".join(message.envelope_recipients), RECIPIENTS_WIDTH),
            _cut(message.subject, SUBJECT_WIDTH),
            message.last_error or "",
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _queue_list(args: argparse.Namespace) -> int:
    import json

    from .queue import Queue

    if args.state is None:
        states = UNSENT_STATES
    elif args.state == "all":
        states = None
    else:
        states = (args.state,)
    with Queue() as queue:
        messages = queue.list(states)
    if args.json:
        print(json.dumps([message.as_dict() for message in messages], indent=2, ensure_ascii=False))
    elif not messages and states is None:
        print("the queue is empty")
    elif not messages:
        names = ", ".join(states[:-1]) + " or " + states[-1] if len(states) > 1 else states[0]
        print(f"no {names} messages in the queue")
    else:
        print(_table(messages))
    return 0


def _queue_retry(args: argparse.Namespace) -> int:
    from .queue import Queue

    with Queue() as queue:
        queue.retry(args.id)
    print(f"message {args.id} queued again, attempts reset to 0")
    return 0


def _queue_delete(args: argparse.Namespace) -> int:
    from .queue import Queue

    with Queue() as queue:
        queue.delete(args.id)
    print(f"message {args.id} deleted")
    return 0


# --- parser -----------------------------------------------------------------------

_SEND_KINDS = {f"--{kind}": kind for kind in KIND_TITLES}
_SEND_OPTIONS = {"--subject": "subject", "--body-file": "body_file"}


def parse_send_arguments(arguments: list[str]) -> types.SimpleNamespace | None:
    """Parse the arguments after ``send`` when they take their plain forms.

    The plain forms are ``--errors`` or ``--reports`` once, and ``--subject``
    and ``--body-file`` at most once each, as ``--option VALUE`` or
    ``--option=VALUE``. Anything else returns ``None``: help, an abbreviated
    or unknown option, a repeated or missing one, or a value that starts
    with '-' (other than '-' itself). The caller then parses with
    ``argparse``, which accepts or rejects those cases with its own messages.
    The result has the attributes of the ``send`` parser's namespace.
    """
    kind = None
    values: dict[str, str] = {}
    position = 0
    while position < len(arguments):
        argument = arguments[position]
        position += 1
        if argument in _SEND_KINDS:
            if kind is not None:
                return None
            kind = _SEND_KINDS[argument]
            continue
        option, equals, value = argument.partition("=")
        if option not in _SEND_OPTIONS or option in values:
            return None
        if not equals:
            if position == len(arguments):
                return None
            value = arguments[position]
            position += 1
        if value.startswith("-") and value != "-":
            return None
        values[option] = value
    if kind is None or "--subject" not in values:
        return None
    return types.SimpleNamespace(
        command="send", kind=kind, subject=values["--subject"], body_file=values.get("--body-file"),
        handler=_send,
    )


def _add_send(commands: argparse._SubParsersAction) -> None:
    send = commands.add_parser(
        "send",
        help="queue a notification and print its id",
        description="Queue a message to the Errors or the Reports/Stats recipients and print its id. "
        "The mailer delivers it. The body is read from standard input unless --body-file is given.",
    )
    kind = send.add_mutually_exclusive_group(required=True)
    for name, title in KIND_TITLES.items():
        kind.add_argument(
            f"--{name}", dest="kind", action="store_const", const=name,
            help=f"send to the {title} recipients (general.{name}_to)",
        )
    send.add_argument("--subject", required=True, metavar="TEXT", help="the Subject line, on one line")
    send.add_argument(
        "--body-file", metavar="FILE",
        help="read the body from FILE (UTF-8) instead of standard input; '-' is standard input",
    )
    send.set_defaults(handler=_send)


def _add_queue(commands: argparse._SubParsersAction) -> None:
    queue = commands.add_parser("queue", help="list, retry or delete queued messages")
    actions = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")

    listing = actions.add_parser(
        "list", help="list messages: by default the queued, sending and failed ones"
    )
    listing.add_argument("--json", action="store_true", help="print the messages as JSON")
    listing.add_argument(
        "--state", choices=(*STATES, "all"),
        help="list only messages in this state, or all of them",
    )
    listing.set_defaults(handler=_queue_list)

    retry = actions.add_parser("retry", help="queue a failed message again, with its attempts reset to 0")
    retry.add_argument("id", type=int, metavar="ID", help="the message id, as 'send' and 'list' print it")
    retry.set_defaults(handler=_queue_retry)

    delete = actions.add_parser("delete", help="delete a message from the queue")
    delete.add_argument("id", type=int, metavar="ID", help="the message id, as 'send' and 'list' print it")
    delete.set_defaults(handler=_queue_delete)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``send`` and ``queue`` commands to the ``alertmail`` parser."""
    _add_send(commands)
    _add_queue(commands)
