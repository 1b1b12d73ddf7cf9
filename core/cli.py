"""The ``alertmail`` command line.

Exit status: 0 success, 1 the operation failed (the message says which step
and why), 2 invalid usage or invalid settings (the message names the key and
the allowed values).

Scripts call ``alertmail send`` often, so ``main`` runs it before anything
else is imported when its arguments take their plain forms: ``argparse``,
the parsers of the other commands and their modules are then never loaded.
Any other ``send`` command line goes through the full parser, which accepts
or rejects it as before.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from . import settings as declared
from . import store
from .errors import AlertmailError, ConfigFileError, NoServerEnabledError, SecretStoreError, SettingError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Invalid usage or invalid settings: exit status 2."""


def _print_error(message: str) -> None:
    print(f"alertmail: {message}", file=sys.stderr)


def _load() -> store.LoadResult:
    """Load the settings file and report a problem with it on stderr."""
    result = store.load_settings()
    if result.problem:
        _print_error(result.problem)
    return result


# --- config --------------------------------------------------------------------


def _config_path(args: argparse.Namespace) -> int:
    print(store.config_path())
    return EXIT_OK


def _toml_literal(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _config_show(args: argparse.Namespace) -> int:
    from . import secrets

    result = _load()
    print(f"# {result.path}{'' if result.exists else ' (not saved yet: defaults)'}")
    section = None
    for setting in declared.SETTINGS:
        if setting.section != section:
            section = setting.section
            print(f"\n[{section}]")
        print(f"{setting.name} = {_toml_literal(result.settings[setting.key])}")

    backend = secrets.backend_name()
    print()
    if backend is None:
        print("# passwords: no keyring backend is available, so none can be stored")
    for server in declared.SERVERS:
        if backend is None:
            continue
        entry, noun = server, "password"
        if result.settings[f"{server}.auth"] == "oauth2":
            from .oauth_config import secret_entry, secret_noun

            provider = result.settings[f"{server}.oauth_provider"]
            entry, noun = secret_entry(server, provider), secret_noun(provider)
        state = "stored" if secrets.has_password(entry) else "not stored"
        print(f"# {server} {noun}: {state} (keyring backend: {backend})")
        # Secrets kept for another authentication type or provider, which stay until cleared.
        others = [
            other for other in secrets.ENTRIES
            if other.partition(":")[0] == server and other != entry and secrets.has_password(other)
        ]
        if others:
            print(f"# {server}: also stored for another sign-in: {', '.join(others)}")
    return EXIT_OK


def _config_set(args: argparse.Namespace) -> int:
    try:
        setting = declared.setting(args.key)
    except SettingError:
        raise UsageError(
            f"unknown setting {args.key!r}; known keys are: " + ", ".join(declared.keys())
        ) from None

    result = _load()
    model = result.settings
    before = {str(problem) for problem in model.problems()}
    try:
        model[setting.key] = setting.parse(args.value)
    except SettingError as error:
        raise UsageError(str(error)) from None

    # Only this key is written: other values, valid or not, stay in the file
    # as they are, so each invalid one can be fixed in turn.
    store.save_settings(model, only_keys=[setting.key])
    print(f"{setting.key} = {_toml_literal(model[setting.key])}")
    # Rules that span several settings, such as OAuth 2.0 without encryption,
    # are not errors here, because the next command may fix them.
    for problem in model.problems():
        if str(problem) not in before:
            print(f"note: {problem}", file=sys.stderr)
    others = [error for error in result.invalid if error.key != setting.key]
    if others:
        _print_error(
            "the settings file still contains invalid values: "
            + "; ".join(str(error) for error in others)
        )
    return EXIT_OK


# No password or client secret comes near this; more on standard input is a mistake.
MAX_SECRET_CHARS = 64 * 1024


def _read_secret(prompt: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    try:
        line = sys.stdin.readline(MAX_SECRET_CHARS + 1) if sys.stdin is not None else ""
    except UnicodeDecodeError:
        raise UsageError("standard input is not valid UTF-8 text; give the secret as UTF-8") from None
    if len(line.rstrip("\r\n")) > MAX_SECRET_CHARS:
        raise UsageError(
            f"the first line of standard input is longer than {MAX_SECRET_CHARS // 1024} KB, so it is "
            "not a password or client secret; pipe in the secret alone"
        )
    return line.rstrip("\r\n")


def _config_set_password(args: argparse.Namespace) -> int:
    from . import secrets
    from .oauth_config import secret_entry, secret_noun

    server = args.server
    model = _load().settings
    oauth = model[f"{server}.auth"] == "oauth2"
    provider = model[f"{server}.oauth_provider"]
    if args.key_file is not None:
        if args.clear:
            raise UsageError("give --clear or --key-file, not both")
        return _store_key_file(server, args.key_file, auth=model[f"{server}.auth"], provider=provider)
    entry, noun = server, "password"
    if oauth:
        entry, noun = secret_entry(server, provider), secret_noun(provider)
    if args.clear:
        if secrets.clear_password(entry):
            print(f"{server} {noun} removed from the keyring")
        else:
            print(f"no {noun} of the {server} server is stored in the keyring; nothing removed")
        return EXIT_OK
    if oauth and provider == "google":
        raise UsageError(
            f"the {server} server signs in with Google Workspace, which uses a service-account key, "
            f"not a password: run 'alertmail config set-password {server} --key-file FILE'"
        )

    password = _read_secret(f"{noun[0].upper() + noun[1:]} for the {server} server: ")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"standard input is not valid UTF-8 text; give the {noun} as UTF-8") from None
    if not password:
        raise UsageError(
            f"no {noun} given on standard input; pipe it in or type it at the prompt "
            f"(use --clear to remove the stored {noun})"
        )
    secrets.store_password(entry, password)
    print(f"{server} {noun} stored in the keyring ({secrets.backend_name()})")
    return EXIT_OK


def _store_key_file(server: str, path: str, *, auth: str, provider: str) -> int:
    """Store the service-account key in ``path`` (``-``: standard input) for ``server``.

    ``auth`` and ``provider`` are the server's current settings. When they do
    not use the key yet, the output lists the settings still to change.
    """
    from . import secrets
    from .oauth_config import MAX_KEY_FILE_BYTES, key_from_bytes, read_key_file

    try:
        if path == "-":
            if sys.stdin is not None and sys.stdin.isatty():
                print("Paste the JSON key, then press Ctrl+D on a line of its own:", file=sys.stderr)
            data = sys.stdin.buffer.read(MAX_KEY_FILE_BYTES + 1) if sys.stdin is not None else b""
            text, key = key_from_bytes(data, "the key on standard input")
        else:
            text, key = read_key_file(path)
    except ValueError as error:
        raise UsageError(str(error)) from None
    secrets.store_password(server + secrets.KEY_SUFFIX, text)
    print(
        f"{server} service-account key of {key.client_email} stored in the keyring "
        f"({secrets.backend_name()})"
    )
    still_needed = []
    if auth != "oauth2":
        still_needed.append(f"alertmail config set {server}.auth oauth2")
    if provider != "google":
        still_needed.append(f"alertmail config set {server}.oauth_provider google")
    if still_needed:
        print(
            f"note: the {server} server uses it once its authentication type is OAuth 2.0 with "
            "Google Workspace: " + "; ".join(still_needed)
        )
    return EXIT_OK


# --- test-email -----------------------------------------------------------------


def _test_email(args: argparse.Namespace) -> int:
    import json

    from . import failover, messages, secrets
    from .transcript import Transcript

    loaded = _load()
    model = loaded.settings
    involved = declared.SERVERS if args.server == "auto" else (args.server,)
    for server, errors in store.servers_with_invalid_values(loaded).items():
        if server in involved and (args.server != "auto" or model[f"{server}.enabled"]):
            raise UsageError(
                f"the {server} server's settings contain invalid values, so it is not tested "
                "with defaults in their place: " + "; ".join(str(error) for error in errors)
            )
    try:
        outgoing = messages.build_test_messages(model, args.server)
    except SettingError as error:
        raise UsageError(str(error)) from None

    if args.server == "auto":
        problems = model.problems()
    else:
        # The chosen server is tested even when it is not enabled, so check it as if it were.
        as_enabled = model.copy()
        as_enabled[f"{args.server}.enabled"] = True
        problems = [problem for problem in as_enabled.problems() if problem.key.startswith(args.server + ".")]
    if problems:
        raise UsageError("; ".join(str(problem) for problem in problems))
    skipped = [kind for kind in ("errors", "reports") if kind not in {message.kind for message in outgoing}]

    transcript = None
    if args.verbose:
        transcript = Transcript(on_line=lambda line: print(line, file=sys.stderr, flush=True))

    report = failover.deliver(
        model,
        outgoing,
        choice=args.server,
        password_for=secrets.read_password,
        transcript=transcript,
    )
    if args.json:
        document = _report_as_dict(report)
        document["skipped"] = skipped
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        _print_report(report, explicit=args.server != "auto")
        for kind in skipped:
            key = messages.RECIPIENT_KEYS[kind]
            print(f"{_KIND_TITLES[kind]}: not sent: no recipients ({key} is empty)")
    return EXIT_OK if report.ok else EXIT_FAILED


def _report_as_dict(report) -> dict:
    return {
        "ok": report.ok,
        "server": report.server,
        "passed_over": [
            {
                "server": failure.server,
                "step": failure.step.value,
                "code": failure.code,
                "reply": failure.reply,
                "message": failure.describe(),
            }
            for failure in report.passed_over
        ],
        "messages": [
            {
                "kind": result.kind,
                "message_id": result.message_id,
                "outcome": result.outcome,
                "accepted": result.accepted,
                "refused": {
                    address: {"code": code, "reply": text} for address, (code, text) in result.refused.items()
                },
                "code": result.code,
                "reply": result.reply,
                "summary": result.summary(),
            }
            for result in report.results
        ],
        "error": report.error.describe() if report.error else None,
    }


_KIND_TITLES = {"errors": "Errors", "reports": "Reports/Stats"}


def _print_report(report, *, explicit: bool = False) -> None:
    # With one server chosen on the command line, nothing is passed over: its
    # failure is the result, printed once below.
    for failure in [] if explicit else report.passed_over:
        print(f"{str(failure.server).capitalize()} server passed over: {failure.describe()}")
    if report.server:
        print(f"Sent through the {report.server} server.")
    for result in report.results:
        print(f"{_KIND_TITLES.get(result.kind, result.kind)}: {result.summary()}")
    if report.error and not report.results:
        print(f"Not sent: {report.error.describe()}")
    elif report.error:
        print(f"The session ended early: {report.error.describe()}")


# --- parser -------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``alertmail``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="alertmail",
        description="Deliver administrators' alerts and reports through a primary SMTP server, "
        "with failover to a secondary one.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    test = commands.add_parser(
        "test-email",
        help="send the two test messages now with the saved settings",
        description="Send one test message to the Errors addresses and one to the Reports/Stats "
        "addresses. With --server auto the failover rules choose the server.",
    )
    test.add_argument("--server", choices=("primary", "secondary", "auto"), default="auto")
    test.add_argument("--json", action="store_true", help="print the result as JSON")
    test.add_argument(
        "--verbose", "-v", action="store_true",
        help="print the SMTP conversation to standard error, credentials redacted",
    )
    test.set_defaults(handler=_test_email)

    config = commands.add_parser("config", help="show or change settings")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    config_commands.add_parser("path", help="print the path of the settings file").set_defaults(
        handler=_config_path
    )
    config_commands.add_parser("show", help="print every setting; passwords are never printed").set_defaults(
        handler=_config_show
    )
    set_parser = config_commands.add_parser(
        "set", help="change one setting, e.g. 'alertmail config set primary.port 587'"
    )
    set_parser.add_argument("key", metavar="KEY", help="dotted key, e.g. primary.port")
    set_parser.add_argument("value", metavar="VALUE")
    set_parser.set_defaults(handler=_config_set)
    password = config_commands.add_parser(
        "set-password",
        help="store a server's password or OAuth 2.0 client secret in the keyring, read from "
        "standard input",
        description="Store the password of SERVER in the keyring, or its OAuth 2.0 client secret "
        "when its authentication type is OAuth 2.0. A Google Workspace service-account key is "
        "stored with --key-file.",
    )
    password.add_argument("server", choices=declared.SERVERS, metavar="SERVER", help="primary or secondary")
    password.add_argument(
        "--clear", action="store_true",
        help="remove the stored password, client secret or service-account key instead",
    )
    password.add_argument(
        "--key-file", metavar="FILE",
        help="store the JSON key of a Google service account, read from FILE ('-': standard input)",
    )
    password.set_defaults(handler=_config_set_password)

    from . import cli_mailer, cli_queue

    cli_queue.register(commands)
    cli_mailer.register(commands)

    from . import cli_shortcut

    cli_shortcut.register(commands)
    return parser


def _configure_logging(verbose: bool) -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    # The mailer command finds this handler by name to show its progress.
    handler.set_name("alertmail-console")
    handler.setFormatter(logging.Formatter("alertmail: %(levelname)s: %(message)s"))
    root = logging.getLogger("alertmail")
    root.addHandler(handler)
    # Problems the user must see are printed by the commands themselves.
    root.setLevel(logging.INFO if verbose else logging.ERROR)
    root.propagate = False


def _parse(arguments: list[str]) -> argparse.Namespace:
    """Parse the command line: ``send`` in its plain forms without argparse, the rest with it."""
    if arguments[:1] == ["send"]:
        from . import cli_queue

        parsed = cli_queue.parse_send_arguments(arguments[1:])
        if parsed is not None:
            return parsed
    return build_parser().parse_args(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    verbose = getattr(args, "verbose", False)
    if args.command == "send":
        # Every module that ``send`` imports logs through a lazy logger, so
        # ``logging`` is imported (and set up first) only for a record it emits.
        from . import lazy_logging

        level = lazy_logging.INFO if verbose else lazy_logging.ERROR
        lazy_logging.defer_setup(lambda: _configure_logging(verbose), level)
    else:
        _configure_logging(verbose)
    try:
        return args.handler(args)
    except UsageError as error:
        _print_error(str(error))
        return EXIT_USAGE
    except (SettingError, NoServerEnabledError) as error:
        _print_error(str(error))
        return EXIT_USAGE
    except (SecretStoreError, ConfigFileError) as error:
        _print_error(str(error))
        return EXIT_FAILED
    except AlertmailError as error:
        _print_error(str(error))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _print_error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
