"""Queue commands of the ``alertmail`` command line: send, queue and mailer."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    """Add the queue commands to the ``alertmail`` parser."""
