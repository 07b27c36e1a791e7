"""The one exception tree of ltvkit.

Every error a user can cause is an :class:`LtvkitError`; the CLI prints its message as one sentence and exits
with status 1, never a traceback. An error raised with a catalogue ``key`` (``InputError(key="err.bad_date",
option="--as-of", value="2024-13-01")``) reads in English as ``str(exc)`` and in the user's language as
``exc.localized("ja")`` (see :mod:`ltvkit.i18n`); one raised with a plain message reads the same in both.

::

    * LtvkitError
      x InputError              bad order data or a user mistake (missing column, unknown preset, bad date)
        + UnknownFormatError    a file that is not a recognised order export
        + MappingError          a column mapping (YAML) that does not fit the file
        + SettingsError         a setting that cannot be used (bad value, secret in ltv.toml, open secret file)
        + ScenarioError         a CRM scenario that cannot be planned (file, line and field named)
      x NotFittedError          a model used before fit()
      x ConvergenceError        an optimiser that did not converge; the message says what to try
      x StoreError              the workspace file cannot be used
        + MigrationError        a schema migration failed or the file is newer than this ltvkit
        + OpsStoreError         the operational database (outbox, contacts, consent) cannot be used
      x DeliveryError           a channel could not deliver a message (.channel, .retryable)
      x MissingDataError        an analysis needs data the workspace does not hold yet
    * StatisticalWarning (RuntimeWarning)
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "DeliveryError",
    "InputError",
    "LtvkitError",
    "MappingError",
    "MigrationError",
    "MissingDataError",
    "NotFittedError",
    "OpsStoreError",
    "ScenarioError",
    "SettingsError",
    "StatisticalWarning",
    "StoreError",
    "UnknownFormatError",
]


class LtvkitError(Exception):
    """Base class of every error ltvkit raises on purpose.

    Parameters
    ----------
    *args
        The English message (as any exception), or nothing when ``key`` is given.
    key
        A key of the message catalogue (``err.*``); ``str(exc)`` is its English wording.
    **params
        The values of the key's ``{placeholders}`` (kept as ``exc.params``).
    """

    def __init__(self, *args: object, key: str | None = None, **params: object) -> None:
        self.key = key
        self.params = params
        if key is not None and not args:
            args = (self.localized("en"),)
        super().__init__(*args)

    def localized(self, lang: str | None) -> str:
        """The message in ``lang`` (``ja`` or ``en``); the plain message when the error has no catalogue key."""
        if self.key is None:
            return str(self)
        from .i18n import t

        return t(self.key, lang, **self.params)

    def __reduce__(self) -> tuple[object, ...]:  # keep key and params through pickling (multiprocessing)
        return (_rebuild, (type(self), self.args, self.key, self.params))


def _rebuild(cls: type[LtvkitError], args: tuple[object, ...], key: str | None,
             params: dict[str, object]) -> LtvkitError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.key, exc.params = key, params
    return exc


class InputError(LtvkitError, ValueError):
    """Bad input data or a user mistake; the message says what to do."""


class UnknownFormatError(InputError):
    """The file is not an order export ltvkit recognises."""


class MappingError(InputError):
    """A column mapping does not fit the file it is applied to."""


class SettingsError(InputError):
    """A setting (environment, secret file or ltv.toml) that cannot be used; the message names it."""


class ScenarioError(InputError):
    """A CRM scenario file (or the shipped library) that cannot be planned; the message names file and field."""


class NotFittedError(LtvkitError, ValueError, AttributeError):
    """Raised when a model is used before ``fit()``."""


class ConvergenceError(LtvkitError, ArithmeticError):
    """An optimiser did not converge; the message lists what to try next."""


class StoreError(LtvkitError):
    """The workspace cannot be opened or written."""


class MigrationError(StoreError):
    """A schema migration failed, or the workspace was written by a newer ltvkit."""


class OpsStoreError(StoreError):
    """The operational database (outbox, contacts, consent) cannot be opened or written."""


class DeliveryError(LtvkitError):
    """A channel could not deliver a message."""

    def __init__(self, message: str = "", *, channel: str = "", retryable: bool = False, key: str | None = None,
                 **params: object) -> None:
        if key is not None and not message:
            super().__init__(key=key, **params)
        else:
            super().__init__(message)
        self.channel = channel
        self.retryable = retryable


class MissingDataError(LtvkitError, LookupError):
    """An analysis needs data that the workspace does not hold yet (e.g. no orders imported)."""


class StatisticalWarning(RuntimeWarning):
    """A result is computed but should be read with care (few customers, wide intervals)."""
