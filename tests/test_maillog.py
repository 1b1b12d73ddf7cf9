"""The rotating mail log."""

from __future__ import annotations

import logging
import os
import stat

from alertmail.core import maillog


def test_log_created_owner_only_and_written():
    mail_log = maillog.MailLog(enabled=True, verbose=False)
    try:
        logging.getLogger("alertmail.core.mailer").info("mailer started for the test")
    finally:
        mail_log.close()
    path = maillog.log_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "mailer started for the test" in path.read_text()


def test_deleted_log_is_written_again():
    mail_log = maillog.MailLog(enabled=True, verbose=False)
    logger = logging.getLogger("alertmail.core.mailer")
    try:
        logger.info("before the delete")
        assert maillog.delete_log() == [maillog.log_path()]
        logger.info("after the delete")
    finally:
        mail_log.close()
    text = maillog.log_path().read_text()
    assert "after the delete" in text
    assert "before the delete" not in text
    assert stat.S_IMODE(os.stat(maillog.log_path()).st_mode) == 0o600


def test_transcript_only_when_verbose():
    mail_log = maillog.MailLog(enabled=True, verbose=False)
    transcript = logging.getLogger("alertmail.transcript")
    try:
        transcript.debug("C: EHLO quiet")
        mail_log.configure(enabled=True, verbose=True)
        transcript.debug("C: EHLO verbose")
    finally:
        mail_log.close()
    text = maillog.log_path().read_text()
    assert "C: EHLO verbose" in text
    assert "C: EHLO quiet" not in text


def test_disabled_log_writes_nothing():
    mail_log = maillog.MailLog(enabled=False, verbose=False)
    logging.getLogger("alertmail.core.mailer").warning("not logged")
    mail_log.close()
    assert not maillog.log_path().exists()
