"""The settings file: where it lives, how it is read, and how it is written.

Reading uses the standard library's ``tomllib``; writing uses ``tomlkit`` on
the document as it is on disk, so comments and key order an administrator
added survive a save. Writes are atomic. A file that cannot be read is moved
aside under a ``.corrupt-<timestamp>`` name and reported, never overwritten.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import settings as declared
from .errors import ConfigFileError, SettingError
from .lazy_logging import get_logger
from .settings import SCHEMA_VERSION, Settings

APP_NAME = "alertmail"
FILE_NAME = "alertmail.toml"

# Lazy, so that ``alertmail send`` does not import ``logging`` unless it logs.
log = get_logger(__name__)


def config_dir() -> Path:
    """Return the folder of the settings file (platformdirs' user config folder)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def config_path() -> Path:
    """Return the path of the settings file."""
    return config_dir() / FILE_NAME


def data_dir() -> Path:
    """Return the folder of the queue database."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def log_dir() -> Path:
    """Return the folder of the mail log."""
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME))


def state_dir() -> Path:
    """Return the folder for window state such as the dialog's size."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME))


class LoadResult:
    """What loading the settings file gave.

    ``problem`` is a message for the user when the file could not be read as
    it is (``None`` otherwise); ``kept_copy`` is where the unreadable file was
    kept; ``invalid`` lists the settings whose stored values were replaced by
    defaults; ``notes`` are further remarks that ``problem`` includes.
    """

    def __init__(
        self,
        settings: Settings,
        path: Path,
        exists: bool,
        problem: str | None = None,
        kept_copy: Path | None = None,
    ) -> None:
        self.settings = settings
        self.path = path
        self.exists = exists
        self.problem = problem
        self.kept_copy = kept_copy
        self.invalid: list[SettingError] = []
        self.unknown: list[str] = []
        self.notes: list[str] = []
        # True when the file exists but did not parse, and was left in place.
        self.unreadable = False


def _timestamp() -> str:
    import datetime

    return datetime.datetime.now().strftime("%Y%m%dT%H%M%S")


def _keep_aside(path: Path, *, move: bool) -> Path:
    """Keep ``path`` under a ``.corrupt-<timestamp>`` name that does not exist yet.

    A copy (``move=False``) whose content an earlier copy already keeps is
    not made again: that earlier copy is returned, so reading the same
    invalid file many times leaves one copy.
    """
    if not move:
        content = path.read_bytes()
        for earlier in sorted(path.parent.glob(f"{path.name}.corrupt-*")):
            try:
                if earlier.read_bytes() == content:
                    return earlier
            except OSError:
                continue
    stem = f"{path.name}.corrupt-{_timestamp()}"
    target = path.with_name(stem)
    counter = 1
    while target.exists():
        target = path.with_name(f"{stem}-{counter}")
        counter += 1
    if move:
        os.replace(path, target)
    else:
        _write_atomically(target, path.read_bytes())
    return target


def _migrate(document: dict[str, Any]) -> dict[str, Any]:
    """Move a parsed file forward to the current schema version.

    Version 1 is the first; a file without ``schema`` is read as version 1.
    Later versions add their steps here.
    """
    return document


def load_settings(
    path: Path | None = None, *, defer_address_checks: bool = False, keep_aside: bool = True
) -> LoadResult:
    """Read the settings file; defaults for what is missing or unreadable.

    Nothing is written except the copy of an unreadable file. A file that does
    not parse is moved aside. A file that parses but contains invalid values is
    copied aside, and those values load as defaults; the file itself is
    rewritten only when the user saves.

    With ``defer_address_checks`` the syntax of addresses is checked later,
    by ``finish_checks``, so the dialog can show its first frame sooner.
    With ``keep_aside=False`` nothing at all is written, copied or moved:
    the problem is only reported. A running mailer rereads the file this
    way, because it may catch an editor in the middle of writing it.
    """
    path = path or config_path()
    if not path.exists():
        return LoadResult(Settings(), path, exists=False)

    try:
        raw = path.read_bytes()
        document = tomllib.loads(raw.decode("utf-8"))
        if not document:
            # Every file alertmail writes has at least ``schema``; an empty or
            # comment-only file is what a truncated write leaves behind.
            raise tomllib.TOMLDecodeError("the file contains no settings; it is empty or truncated")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        if not keep_aside:
            problem = f"The settings file {path} could not be read ({error})."
            unreadable = LoadResult(Settings(), path, exists=True, problem=problem)
            unreadable.unreadable = True
            return unreadable
        kept = _keep_aside(path, move=True)
        log.warning("settings file %s could not be read (%s); kept as %s", path, error, kept)
        problem = (
            f"The settings file {path} could not be read ({error}). It was kept as "
            f"{kept.name}, and the default settings are in use. The file is written again "
            "only when settings are saved."
        )
        return LoadResult(Settings(), path, exists=False, problem=problem, kept_copy=kept)
    except OSError as error:
        raise ConfigFileError(f"the settings file {path} could not be read: {error}") from None

    document = _migrate(document)
    loaded = Settings()
    invalid: list[SettingError] = []
    sections = {setting.section for setting in declared.SETTINGS}
    for name in sorted(sections):
        if name in document and not isinstance(document[name], dict):
            invalid.append(SettingError(name, document[name], f"must be a table: write it as [{name}]"))
    for setting in declared.SETTINGS:
        section = document.get(setting.section)
        if not isinstance(section, dict) or setting.name not in section:
            continue
        try:
            if defer_address_checks:
                loaded.set_unchecked(setting.key, section[setting.name])
            else:
                loaded[setting.key] = section[setting.name]
        except SettingError as error:
            invalid.append(error)

    result = LoadResult(loaded, path, exists=True)
    unknown = _unknown_keys(document, sections)
    if unknown:
        result.unknown = unknown
        result.notes.append(
            "The settings file contains keys alertmail does not know, which are ignored: "
            + ", ".join(unknown)
            + ". Check them for typing errors; 'alertmail config show' lists the known keys."
        )
    schema = document.get("schema", SCHEMA_VERSION)
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        result.notes.append(
            f"The settings file was written by a newer alertmail (schema {schema}); "
            "settings this version does not know are kept as they are."
        )
    if not keep_aside:
        result.invalid.extend(invalid)
        parts = list(result.notes)
        if invalid:
            details = "; ".join(str(error) for error in invalid)
            parts.insert(0, f"The settings file {path} contains invalid values, read as defaults: {details}.")
        result.problem = " ".join(parts) or None
        return result
    _report_invalid(result, invalid)
    return result


def _unknown_keys(document: dict[str, Any], sections: set[str]) -> list[str]:
    """Return the dotted keys of ``document`` that no setting declares.

    Only the newest schema's own file is checked: a file from a newer
    alertmail may hold keys this version cannot know.
    """
    schema = document.get("schema", SCHEMA_VERSION)
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        return []
    known = set(declared.keys())
    unknown = []
    for name, value in document.items():
        if name == "schema":
            continue
        if name not in sections:
            unknown.append(name)
            continue
        if isinstance(value, dict):
            unknown.extend(f"{name}.{key}" for key in value if f"{name}.{key}" not in known)
    return unknown


def servers_with_invalid_values(result: LoadResult) -> dict[str, list[SettingError]]:
    """Return, per server, the invalid stored values that were replaced by defaults.

    A server whose stored settings were invalid must not be used for
    sending with defaults in their place: "ssl" read as security "none"
    would send the password in plain text.
    """
    found: dict[str, list[SettingError]] = {}
    for error in result.invalid:
        section = error.key.partition(".")[0]
        if section in declared.SERVERS:
            found.setdefault(section, []).append(error)
    return found


def finish_checks(result: LoadResult) -> LoadResult:
    """Run the address checks that ``load_settings(defer_address_checks=True)`` left out.

    Invalid addresses revert to defaults and are reported as ``load_settings``
    reports any invalid value.
    """
    _report_invalid(result, result.settings.check_unchecked())
    return result


def _report_invalid(result: LoadResult, invalid: list[SettingError]) -> None:
    """Record invalid stored values on ``result`` and keep a copy of the file."""
    if invalid:
        result.invalid.extend(invalid)
        if result.kept_copy is None:
            result.kept_copy = _keep_aside(result.path, move=False)
        log.warning(
            "settings file %s contains invalid values (%s); copy kept as %s",
            result.path,
            "; ".join(str(error) for error in invalid),
            result.kept_copy,
        )
    parts = []
    if result.invalid:
        details = "; ".join(str(error) for error in result.invalid)
        parts.append(
            f"The settings file {result.path} contains invalid values, shown as defaults: {details}. "
            f"A copy of the file was kept as {result.kept_copy.name}."
        )
    parts.extend(result.notes)
    result.problem = " ".join(parts) or None


def _document_for_update(path: Path):
    """Return the tomlkit document to update: the file on disk when it parses."""
    import tomlkit

    if path.exists():
        try:
            return tomlkit.parse(path.read_text(encoding="utf-8"))
        except Exception as error:  # noqa: BLE001 - an unreadable file is kept aside, not overwritten
            kept = _keep_aside(path, move=False)
            log.warning("settings file %s could not be parsed for update (%s); kept as %s", path, error, kept)

    document = tomlkit.document()
    document.add(tomlkit.comment("alertmail settings. Passwords are kept in the system keyring, not here."))
    document.add(tomlkit.comment("Keys are documented in the README; comments you add here are kept."))
    return document


def render_settings(
    settings: Settings, path: Path | None = None, *, only_keys: Iterable[str] | None = None
) -> str:
    """Return the text the settings file would have after saving ``settings``.

    With ``only_keys``, only those keys are written and every other value
    stays as it is in the file, also one changed by another program since
    ``settings`` was read.
    """
    import tomlkit

    path = path or config_path()
    document = _document_for_update(path)
    existing_schema = document.get("schema")
    if not (isinstance(existing_schema, int) and existing_schema > SCHEMA_VERSION):
        # A file from a newer alertmail keeps its version, so that version
        # still recognizes its own layout.
        document["schema"] = SCHEMA_VERSION
    selected = set(only_keys) if only_keys is not None else None
    for setting in declared.SETTINGS:
        if selected is not None and setting.key not in selected:
            continue
        table = document.get(setting.section)
        if not isinstance(table, dict):
            # A missing table, or a value where the table belongs (kept in the
            # .corrupt copy made when the file was read).
            table = tomlkit.table()
            document[setting.section] = table
        value = settings[setting.key]
        if table.get(setting.name) != value:
            table[setting.name] = value
    return tomlkit.dumps(document)


def save_settings(
    settings: Settings, path: Path | None = None, *, only_keys: Iterable[str] | None = None
) -> Path:
    """Write ``settings`` to the settings file atomically, keeping comments.

    ``only_keys`` limits the write to those keys, as ``render_settings`` does.
    A settings file that is a symbolic link stays one: its target is replaced.
    """
    path = path or config_path()
    if path.is_symlink():
        path = path.resolve()
    text = render_settings(settings, path, only_keys=only_keys)
    _write_atomically(path, text.encode("utf-8"))
    log.info("settings saved to %s", path)
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and ``os.replace``.

    Afterwards the file contains either its old content or all of ``data``,
    never a part, and on POSIX only its owner can read it.
    """
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise ConfigFileError(f"the folder {path.parent} could not be written: {error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            if os.name == "posix":
                os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise ConfigFileError(f"the settings file {path} could not be written: {error}") from None
    if os.name == "posix":
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
