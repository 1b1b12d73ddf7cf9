"""A loopback SMTP sink for benchmarks: aiosmtpd that accepts every message and discards it.

Run as a program, it listens on 127.0.0.1 on a free port and prints
``ready PORT`` on standard output. When its standard input closes it stops
the server, prints ``received N`` (the number of messages accepted) and
exits. Running it in its own process keeps the server's work off the
benchmarked process's interpreter lock.
"""

from __future__ import annotations

import socket
import sys

from aiosmtpd.controller import Controller


class DiscardHandler:
    """An aiosmtpd handler that replies 250 to every message and keeps nothing but a count."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ARG002, N802 - aiosmtpd's hook
        self.received += 1
        return "250 2.0.0 accepted"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    aiosmtpd's ``Controller`` cannot be given port 0, so a port is picked first.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> int:
    """Serve until standard input closes; print the port, then the count of messages."""
    handler = DiscardHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        print(f"ready {controller.port}", flush=True)
        sys.stdin.read()
    finally:
        controller.stop()
    print(f"received {handler.received}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
