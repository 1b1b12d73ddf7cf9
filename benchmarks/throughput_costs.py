"""Per-message costs of the mailer's steps, for ``throughput.py --costs`` and ``--profile``.

``print_costs`` times the steps of a batch one at a time over the same
messages: building each message from its queue record, rendering its wire
bytes, the SMTP transaction through the dispatcher, and the synced commit
of its result. Run alone, they show each step's cost, not how the mailer
overlaps the commits with the SMTP conversation. ``print_profile`` runs one whole batch
under ``cProfile``. Both send to the sink and return how many messages
they sent, so the caller can check the sink's count.
"""

from __future__ import annotations

import cProfile
import io
import logging
import pstats
import smtplib
import time
from collections.abc import Callable, Sequence

from alertmail.core.dispatch import SmtpDispatcher
from alertmail.core.mailer import run_batch
from alertmail.core.messages import message_bytes
from alertmail.core.queue import Queue
from alertmail.core.queue_outgoing import to_outgoing
from alertmail.core.settings import Settings

PROFILE_LINES = 30


def _per_message_ms(items: Sequence, step: Callable) -> tuple[float, list]:
    """Run ``step`` on each item; return the mean milliseconds per item and the results."""
    started = time.perf_counter()
    results = [step(item) for item in items]
    return (time.perf_counter() - started) * 1000 / len(items), results


def _dispatcher_send_ms(settings: Settings, outgoing: list) -> float:
    """Send ``outgoing`` over one dispatcher session; return the mean milliseconds per message."""
    dispatcher = SmtpDispatcher(settings.server("primary"))
    dispatcher.connect()
    try:
        elapsed, results = _per_message_ms(outgoing, dispatcher.send)
    finally:
        dispatcher.close()
    if not all(result.delivered for result in results):
        raise RuntimeError("the sink did not accept every message")
    return elapsed


def _smtplib_send_ms(settings: Settings, rendered: list[tuple[str, list[str], bytes]]) -> float:
    with smtplib.SMTP("127.0.0.1", settings["primary.port"], timeout=30) as client:
        elapsed, refusals = _per_message_ms(rendered, lambda item: client.sendmail(*item))
    if any(refusals):
        raise RuntimeError("the sink refused recipients")
    return elapsed


def print_costs(settings: Settings, queue: Queue) -> int:
    """Print the mean time per message of each step of a batch of ``queue``; return the messages sent.

    Closes ``queue``.
    """
    try:
        started = time.perf_counter()
        claimed = queue.claim_batch()
        claim_ms = (time.perf_counter() - started) * 1000 / len(claimed)
        build_ms, outgoing = _per_message_ms(claimed, lambda message: to_outgoing(message, settings))
        render_ms, data = _per_message_ms(outgoing, lambda built: message_bytes(built, smtputf8=False))
        send_ms = _dispatcher_send_ms(settings, outgoing)
        logger = logging.getLogger("alertmail")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            quiet_send_ms = _dispatcher_send_ms(settings, outgoing)
        finally:
            logger.setLevel(level)
        rendered = [(built.sender, built.recipients, wire) for built, wire in zip(outgoing, data)]
        plain_ms = _smtplib_send_ms(settings, rendered)
        commit_ms, _ = _per_message_ms(claimed, lambda message: queue.mark_sent(message.id))
    finally:
        queue.close()

    print()
    print(f"mean time per message, each step timed alone over {len(claimed)} messages (ms):")
    rows = (
        ("claim_batch (one transaction, share per message)", claim_ms),
        ("to_outgoing: the message from the queue record (renders a plain one)", build_ms),
        ("message_bytes: wire bytes, ASCII headers (kept from to_outgoing when plain)", render_ms),
        ("SmtpDispatcher.send, mail log at INFO (bytes rendered above)", send_ms),
        ("SmtpDispatcher.send, log at WARNING (bytes rendered above)", quiet_send_ms),
        ("smtplib sendmail of the rendered bytes", plain_ms),
        ("Queue.mark_sent: one transaction, synced commit", commit_ms),
    )
    for title, value in rows:
        print(f"  {value:7.3f}  {title}")
    return 3 * len(claimed)


def print_profile(settings: Settings, queue: Queue) -> int:
    """Run one batch of ``queue`` under cProfile and print its top functions; return the messages sent.

    Closes ``queue``.
    """
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        report = run_batch(settings, queue, password_for=lambda server: "")
        profiler.disable()
    finally:
        queue.close()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    print()
    print(f"one batch of {len(report.sent)} messages under cProfile (the profiler slows Python code, not waits):")
    print(stream.getvalue())
    return len(report.sent)
