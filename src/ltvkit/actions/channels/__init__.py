"""Channels the outbox sends through (a registry; LINE, e-mail and mall message lists are built in)."""

from ._base import (
    BaseChannel,
    Delivery,
    Message,
    available_channels,
    channel_factory,
    register_channel,
    staff_list_channels,
)
from .email import EmailChannel
from .export import ExportReport, export_mall_messages
from .line import LineChannel

__all__ = ["BaseChannel", "Delivery", "EmailChannel", "ExportReport", "LineChannel", "Message", "available_channels",
           "channel_factory", "export_mall_messages", "register_channel", "staff_list_channels"]
