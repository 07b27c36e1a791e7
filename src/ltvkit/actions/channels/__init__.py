"""Channels the outbox sends through (a registry; LINE is built in)."""

from ._base import BaseChannel, Delivery, Message, available_channels, channel_factory, register_channel
from .email import EmailChannel
from .line import LineChannel

__all__ = ["BaseChannel", "Delivery", "EmailChannel", "LineChannel", "Message", "available_channels", "channel_factory",
           "register_channel"]
