"""The events outbox: domain events recorded in the same transaction as the change that caused them.

Webhook delivery (its own issue) reads undispatched rows and fans them out, so an event is never lost between
"the appointment exists" and "someone was told": both commit or neither does.
"""
from __future__ import annotations

import logging
from typing import Any

from data.ai import Event

logger = logging.getLogger(__name__)

# The catalog of API.md; emitting anything else is a programming error caught in tests.
EVENTS = ("call.started", "call.answered", "call.ended", "call.transferred", "call.recording.available",
          "call.transcript.available", "recording.uploaded", "transcription.completed", "transcription.failed",
          "contact.created", "contact.updated", "lead.updated", "campaign.completed", "appointment.booked",
          "voicemail.received")


def emit(event: str, data: dict[str, Any], org_id: str) -> Event:
    """Record one event for the organization in the current transaction; returns the outbox row."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    row = Event.create(organization=org_id, event=event, data=data)
    logger.debug("event %s %s recorded", row.id, event)
    return row


def pending(limit: int = 100) -> list[Event]:
    """Undispatched events, oldest first (for the delivery worker)."""
    return list(Event.select().where(Event.dispatched_at.is_null()).order_by(Event.created_at, Event.id).limit(limit))
