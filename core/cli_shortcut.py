"""Shortcut commands of the ``alertmail`` command line: ``install-shortcut`` and ``uninstall-shortcut``.

Both print each path they create or remove and exit with 0. A file or
folder that cannot be written or removed exits with 1, and the message
names it.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_FAILED = 1


def _print_paths(verb: str, paths) -> None:
    for path in paths:
        print(f"{verb} {path}")


def _install(args: argparse.Namespace) -> int:
    from .shortcut import ShortcutError, install

    both = not args.desktop and not args.menu
    try:
        created = install(desktop=args.desktop or both, menu=args.menu or both)
    except ShortcutError as error:
        _print_paths("created", error.done)
        print(f"alertmail: {error}", file=sys.stderr)
        return EXIT_FAILED
    _print_paths("created", created)
    return EXIT_OK


def _uninstall(args: argparse.Namespace) -> int:
    from .shortcut import ShortcutError, uninstall

    try:
        removed = uninstall()
    except ShortcutError as error:
        _print_paths("removed", error.done)
        print(f"alertmail: {error}", file=sys.stderr)
        return EXIT_FAILED
    if not removed:
        print("no alertmail shortcut is installed; nothing was removed")
    _print_paths("removed", removed)
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``install-shortcut`` and ``uninstall-shortcut`` commands to the ``alertmail`` parser."""
    install = commands.add_parser(
        "install-shortcut",
        help="add E-mail Options to the applications menu and the desktop",
        description="Create shortcuts that open the E-mail Options dialog of this Python "
        "environment: a menu entry (the applications menu on Linux, the Start menu on Windows, "
        "~/Applications on macOS) and a desktop shortcut. Without options, both are created. "
        "Running it again replaces them.",
    )
    install.add_argument("--desktop", action="store_true", help="create the desktop shortcut")
    install.add_argument("--menu", action="store_true", help="create the menu entry")
    install.set_defaults(handler=_install)

    uninstall = commands.add_parser(
        "uninstall-shortcut",
        help="remove the shortcuts that install-shortcut created",
        description="Remove the menu entry, the desktop shortcut and, on Linux, the icon "
        "that install-shortcut created.",
    )
    uninstall.set_defaults(handler=_uninstall)
