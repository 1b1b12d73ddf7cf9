"""The mailer: sends the queued messages in batches, with failover.

Every send interval the mailer claims the queued messages (fewest attempts
first) and sends them as one batch through one SMTP session, chosen by the
failover rules:

1. When the primary server cannot be used, the batch goes to the secondary
   at once (``failover.deliver`` does this).
2. When a session to the primary is lost while sending, the messages that
   were not sent stay queued. The next batch, one interval later, starts
   with the primary again; the secondary is not tried in between.
3. When the primary is not enabled, the secondary is used.
4. When neither is enabled, nothing is sent, the queue is kept, and the
   status gives the reason.

Each message's result is committed to the queue in its own transaction
by a writer thread while the server works on the next message's commands.
The next message's data waits for that commit, so a mailer killed in the
middle of a batch sends at most one message a second time.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from pathlib import Path

from . import failover, status
from .dispatch import CancelToken, MessageResult
from .errors import AlertmailError, DeliveryCancelled, NoServerEnabledError, SettingError
from .messages import OutgoingMessage
from .queue import Queue
from .queue_outgoing import to_outgoing
from .queue_records import MessageNotFoundError, QueueError, QueuedMessage
from .result_writer import ResultWriter
from .settings import Settings
from .transcript import Transcript

log = logging.getLogger(__name__)


class BatchReport:
    """What one batch did: the server used, and the message ids by result.

    ``sent`` contains the ids accepted by the server (partial refusals
    included), ``kept`` the ids still queued (a temporary failure, an
    uncertain outcome, or not tried), ``failed`` the ids parked as failed.
    ``reason`` explains in words why nothing was sent, when nothing was.
    """

    def __init__(self) -> None:
        self.server: str | None = None
        self.sent: list[int] = []
        self.kept: list[int] = []
        self.failed: list[int] = []
        self.passed_over: list[str] = []
        self.connection_lost: str | None = None
        self.reason: str | None = None

    @property
    def empty(self) -> bool:
        """True when the batch had no message."""
        return not (self.sent or self.kept or self.failed)

    def summary(self) -> str:
        """Describe the batch in one line."""
        if self.empty and self.reason:
            return self.reason
        through = f"through the {self.server} server" if self.server else "through no server"
        text = (
            f"batch {through}: {len(self.sent)} sent, {len(self.kept)} kept, {len(self.failed)} failed"
        )
        if self.reason:
            text += f"; {self.reason}"
        return text


def _result_text(result: MessageResult) -> str:
    return result.summary()


class _Recorder:
    """Writes each message's result to the queue, each in its own transaction, from a writer thread.

    ``submit`` keeps a result, ``start_commits`` hands the kept results to
    the writer thread, ``commit_all`` also waits until they are committed,
    and ``close`` does that and ends the thread. ``recorded`` contains the
    Message-IDs whose result was taken for writing, and ``report`` is filled
    as they are written; read them after ``close``.
    """

    def __init__(self, queue: Queue, claimed: dict[str, QueuedMessage], report: BatchReport) -> None:
        self.claimed = claimed
        self.report = report
        self.recorded: set[str] = set()
        self._kept: collections.deque[MessageResult] = collections.deque()
        self._writer: ResultWriter[MessageResult] = ResultWriter(
            lambda: Queue(queue.path, max_attempts=queue.max_attempts, busy_timeout_s=queue.busy_timeout_s),
            self._write,
        )

    def submit(self, result: MessageResult) -> None:
        """Keep ``result`` to be committed."""
        self._kept.append(result)

    def start_commits(self) -> None:
        """Hand every kept result to the writer thread, which commits them in order."""
        while self._kept:
            self._writer.submit(self._kept.popleft())

    def commit_all(self) -> None:
        """Hand over every kept result and wait until all are committed; raise the writer's error."""
        self.start_commits()
        self._writer.wait_committed()

    def close(self) -> BaseException | None:
        """Commit every kept result and end the writer thread; return the error that stopped it."""
        self.start_commits()
        self._writer.close()
        return self._writer.error

    def _write(self, queue: Queue, result: MessageResult) -> None:
        message = self.claimed.get(result.message_id)
        if message is None:
            return
        self.recorded.add(result.message_id)
        try:
            self._record(queue, message, result)
        except MessageNotFoundError:
            log.warning("message %d was deleted while it was being sent", message.id)

    def _record(self, queue: Queue, message: QueuedMessage, result: MessageResult) -> None:
        report = self.report
        if result.delivered:
            queue.mark_sent(message.id, result.refused or None)
            report.sent.append(message.id)
            if result.refused:
                log.warning("message %d %s: %s", message.id, message.message_id, result.summary())
            return
        if result.outcome == "refused":
            queue.mark_failed(message.id, _result_text(result), result.refused or None)
            report.failed.append(message.id)
            return
        if result.outcome == "uncertain":
            log.warning(
                "message %d %s: outcome uncertain, it is sent again after the next interval: %s",
                message.id, message.message_id, result.detail,
            )
            state = queue.mark_uncertain(message.id, _result_text(result))
        elif result.attempted:
            state = queue.mark_deferred(message.id, _result_text(result))
        else:
            queue.release(message.id, result.detail)
            state = "queued"
        (report.failed if state == "failed" else report.kept).append(message.id)


def _build_batch(
    queue: Queue, claimed: list[QueuedMessage], settings: Settings, report: BatchReport
) -> tuple[list[OutgoingMessage], dict[str, QueuedMessage]]:
    """Build the claimed messages; return them and the claimed records by Message-ID.

    A message whose stored addresses fail their check is marked failed at once.
    """
    outgoing = []
    by_message_id: dict[str, QueuedMessage] = {}
    for message in claimed:
        try:
            built = to_outgoing(message, settings)
        except SettingError as error:
            queue.mark_failed(message.id, f"the message cannot be sent: {error}")
            report.failed.append(message.id)
            continue
        outgoing.append(built)
        by_message_id[built.message_id] = message
    return outgoing, by_message_id


def _describe_delivery(report: BatchReport, delivery: failover.DeliveryReport) -> None:
    """Copy the server used, the servers passed over and the reason of a failure into ``report``."""
    report.server = delivery.server
    report.passed_over = [f"{failure.server}: {failure.describe()}" for failure in delivery.passed_over]
    if delivery.server is None and isinstance(delivery.error, DeliveryCancelled):
        # A stop is no verdict on the servers, so it must not read like one.
        report.reason = "not sent: the batch was cancelled while connecting to a server"
    elif delivery.server is None and delivery.error is not None:
        report.reason = f"no server could be used: {delivery.error.describe()}"
    elif delivery.error is not None:
        report.connection_lost = delivery.error.describe()
        report.reason = f"the session was lost: {delivery.error.describe()}"


def _deliver(
    settings: Settings,
    outgoing: list[OutgoingMessage],
    recorder: _Recorder,
    report: BatchReport,
    deliver_options: dict,
) -> failover.DeliveryReport | None:
    """Send ``outgoing`` with ``failover.deliver`` and commit each result; return its report.

    Returns ``None``, with the reason in ``report``, when the dispatcher or
    the queue raised an error the mailer survives.
    """
    try:
        # At most one message accepted by the server is uncommitted at any
        # moment, so a SIGKILL makes at most one message go out twice. Each
        # result is kept (on_result) and handed to the writer thread while
        # the server works on the next message's first command
        # (while_waiting). It is committed while that message's commands go
        # on. Before that message's data, whose end makes the server accept
        # it, the transaction waits for every earlier commit (before_data).
        # A message stays "sending" until its result is committed, and
        # recover_interrupted queues such messages again, so delivery stays
        # at least once.
        delivery = failover.deliver(
            settings, outgoing, on_result=recorder.submit, while_waiting=recorder.start_commits,
            before_data=recorder.commit_all, **deliver_options,
        )
    except (AlertmailError, OSError) as error:
        # Nothing the dispatcher or the queue raises may stop the mailer: keep the batch queued.
        log.error("batch stopped by an unexpected error: %s", error)
        report.reason = f"the batch stopped: {error}"
        return None
    finally:
        writer_error = recorder.close()
    if writer_error is None:
        return delivery
    # The last results failed to commit after the session ended.
    if not isinstance(writer_error, (AlertmailError, OSError)):
        raise writer_error
    log.error("batch stopped by an unexpected error: %s", writer_error)
    report.reason = f"the batch stopped: {writer_error}"
    return None


def run_batch(
    settings: Settings,
    queue: Queue,
    *,
    password_for: Callable[[str], str] | None = None,
    transcript: Transcript | None = None,
    cancel: CancelToken | None = None,
    limit: int | None = None,
    **deliver_options,
) -> BatchReport:
    """Claim the queued messages and send them as one batch; return what happened.

    The caller must hold the ``QueueLock``. ``deliver_options`` go to
    ``failover.deliver`` (``ssl_context``, ``resolver``), as tests need.
    """
    if password_for is None:
        from .secrets import read_password

        password_for = read_password
    deliver_options.update(password_for=password_for, transcript=transcript, cancel=cancel)
    report = BatchReport()
    queue.max_attempts = settings["mailer.max_attempts"]

    try:
        failover.servers_in_order(settings)
    except NoServerEnabledError as error:
        report.reason = f"nothing sent: {error}"
        return report

    claimed = queue.claim_batch(limit)
    if not claimed:
        return report

    outgoing, by_message_id = _build_batch(queue, claimed, settings, report)
    recorder = _Recorder(queue, by_message_id, report)
    delivery = _deliver(settings, outgoing, recorder, report, deliver_options)
    if delivery is not None:
        _describe_delivery(report, delivery)

    for message_id, message in by_message_id.items():
        if message_id not in recorder.recorded:
            queue.release(message.id, report.reason or "not sent in this batch")
            report.kept.append(message.id)
    return report


class Mailer:
    """The mailer loop of ``alertmail mailer run``.

    ``load`` returns the current settings; it is called before every batch,
    so a change of the settings file takes effect without a restart.
    ``stop()`` may be called from a signal handler or another thread.
    """

    def __init__(
        self,
        queue: Queue,
        load: Callable[[], Settings],
        *,
        status_path: Path | None = None,
        **batch_options,
    ) -> None:
        self.queue = queue
        self.load = load
        self.status = status.StatusFile(status_path)
        self.batch_options = batch_options
        self._stopping = False
        self._cancel: CancelToken | None = None
        self._stopped_reported = False
        self._last_reason: str | None = None
        # True while the status gives the reason the mailer is held or its last
        # batch was cut short, so the wait that follows keeps it visible.
        self._status_has_reason = False

    def stop(self) -> None:
        """Ask the loop to end; a batch in flight is cancelled."""
        self._stopping = True
        if self._cancel is not None:
            self._cancel.cancel()

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called."""
        return self._stopping

    def run(self, *, once: bool = False) -> BatchReport | None:
        """Run batches until stopped; with ``once``, run one batch now and return its report.

        The report is ``None`` when the mailer is stopped by its setting.
        """
        recovered = self.queue.recover_interrupted()
        log.info("mailer started (queue %s, %d messages recovered)", self.queue.path, recovered)
        self.status.write("starting", "the mailer started")
        try:
            if once:
                return self.run_cycle()
            while not self._stopping:
                self._wait(self.load()["mailer.send_interval_s"])
                if self._stopping:
                    break
                self._run_cycle_in_loop()
        finally:
            self.status.write("stopped", "the mailer is not running")
            log.info("mailer stopped")
        return None

    def _run_cycle_in_loop(self) -> None:
        """Run one batch, and log a queue that cannot be used instead of ending the loop."""
        try:
            self.run_cycle()
        except QueueError as error:
            # A locked or full database may recover by the next interval.
            log.error(
                "batch failed because the queue could not be used, tried again after the interval: %s",
                error,
            )
            self.status.write("idle", f"the last batch failed: {error}")
            self._status_has_reason = True
            try:
                # This mailer holds the mailer lock, so the only "sending" messages are those it claimed.
                self.queue.recover_interrupted()
            except QueueError as again:
                log.error(
                    "messages claimed by the failed batch stay 'sending' until the mailer restarts: %s",
                    again,
                )

    def _wait(self, seconds: float) -> None:
        """Wait ``seconds``, ending early on ``stop()`` or a send-now request."""
        if not self._status_has_reason:
            self.status.write("waiting", f"next batch in {seconds:g} s")
        deadline = time.monotonic() + seconds
        while not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.status.take_send_now():
                log.info("batch requested now")
                return
            time.sleep(min(0.2, left))

    def run_cycle(self) -> BatchReport | None:
        """Run one batch with the current settings, unless the mailer is stopped."""
        settings = self.load()
        if not settings["mailer.enabled"]:
            waiting = self.queue.count("queued")
            reason = f"the mailer is stopped (mailer.enabled = false): nothing is sent, {waiting} messages kept"
            if not self._stopped_reported:
                log.info("%s", reason)
                self._stopped_reported = True
            self.status.write("disabled", reason)
            self._status_has_reason = True
            return None
        self._stopped_reported = False

        self._cancel = CancelToken()
        if self._stopping:
            self._cancel.cancel()
        self.status.write("sending", "sending a batch")
        transcript = Transcript() if settings["general.log_verbose"] else None
        try:
            report = run_batch(settings, self.queue, transcript=transcript, cancel=self._cancel, **self.batch_options)
        finally:
            self._cancel = None

        if not report.empty:
            log.info("%s; sent %s kept %s failed %s", report.summary(), report.sent, report.kept, report.failed)
            self._last_reason = None
        elif report.reason and report.reason != self._last_reason:
            # The same reason at every interval is logged once, until it changes.
            log.warning("%s", report.reason)
            self._last_reason = report.reason
        self.status.write("idle", report.summary() if (not report.empty or report.reason) else "the queue is empty")
        self._status_has_reason = report.reason is not None
        return report
