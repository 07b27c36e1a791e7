"""The channel interface: one method, ``send(message) -> Delivery``, and a registry of channel factories.

A channel is a thin shell over a provider (LINE's push API now; e-mail, webhooks, package inserts and mall
exports later). The outbox sender is its only caller. Adding a channel is a new module that calls
:func:`register_channel`; nothing in planning or sending changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...config import Settings

__all__ = ["BaseChannel", "Delivery", "Message", "available_channels", "channel_factory", "register_channel",
           "staff_list_channels"]


@dataclass(frozen=True)
class Message:
    """One rendered message. ``key`` is the idempotency key (LINE retry key, e-mail Message-ID); ``to`` is the
    channel address (a LINE user ID), which never leaves the sender: it is not logged or stored elsewhere."""

    key: str
    to: str
    text: str
    scenario: str
    customer_key: str
    lang: str = "ja"
    context: dict[str, Any] = field(default_factory=dict)  # the row's context: items, item, dates
    html: str | None = None  # the HTML rendering (autoescaped), for channels that send HTML


@dataclass(frozen=True)
class Delivery:
    """The provider's answer.

    ``ok``: accepted (a LINE 409 for a retried key counts: it was accepted before). ``retryable``: a transient
    failure (5xx, timeout, rate limit). ``pause``: stop this channel (quota exhausted, credentials refused);
    ``unreachable``: the address is no good (mark the customer unreachable on the channel). ``answer`` is a short
    text of the provider's answer without personal data.
    """

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    provider_id: str | None = None
    answer: str = ""
    pause: bool = False
    unreachable: bool = False

    @classmethod
    def accepted(cls, status_code: int | None = None, provider_id: str | None = None, answer: str = "") -> Delivery:
        return cls(True, False, status_code, provider_id, answer)


class BaseChannel(ABC):
    """A channel the outbox sends through. Subclasses set ``name`` and implement :meth:`send`."""

    name: str = ""

    @abstractmethod
    def send(self, message: Message) -> Delivery:
        """Deliver one message; never raise for a provider's answer (return a :class:`Delivery`)."""

    def close(self) -> None:  # noqa: B027 - an optional hook: a channel without connections keeps it
        """Release connections (nothing to release by default)."""


ChannelFactory = Callable[["Settings"], BaseChannel]
_REGISTRY: dict[str, ChannelFactory] = {}
_LISTS: set[str] = set()


def register_channel(name: str, factory: ChannelFactory, *, staff_list: bool = False) -> None:
    """Make a channel available to planning (as a choice in a scenario's ``channels``) and sending.

    ``staff_list``: the channel's messages are exported as lists for the shop's staff (mall messages) by their
    own command, not sent by ``ltv crm send``, and need no address at planning."""
    _REGISTRY[name] = factory
    if staff_list:
        _LISTS.add(name)
    else:
        _LISTS.discard(name)


def staff_list_channels() -> set[str]:
    """Channels whose messages go out as lists for staff (see :func:`register_channel`)."""
    return set(_LISTS)


def available_channels() -> list[str]:
    """Names of the registered channels."""
    return sorted(_REGISTRY)


def channel_factory(name: str) -> ChannelFactory:
    from ...exceptions import InputError

    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(key="err.unknown_channel", name=repr(name),
                         known=", ".join(available_channels())) from None
