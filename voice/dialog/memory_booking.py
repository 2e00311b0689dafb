"""A booking backend kept in memory: for tests, the bench and ``/ai/test`` without a database."""
from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Appointment:
    """One booked slot."""

    id: str
    name: str
    phone: str
    start: dt.datetime
    minutes: int
    reason: str

    @property
    def end(self) -> dt.datetime:
        """When the appointment ends."""
        return self.start + dt.timedelta(minutes=self.minutes)


class InMemoryBooking:
    """Implements ``BookingBackend`` over a list; ``clock`` decides which appointments are still upcoming."""

    def __init__(self, clock=None, appointments: list[Appointment] | None = None):
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._items: list[Appointment] = list(appointments or [])
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def appointments(self) -> list[Appointment]:
        """Current appointments, earliest first."""
        with self._lock:
            return sorted(self._items, key=lambda a: a.start)

    def is_free(self, start: dt.datetime, minutes: int) -> bool:
        """Whether no appointment overlaps [start, start + minutes)."""
        end = start + dt.timedelta(minutes=minutes)
        with self._lock:
            return not any(a.start < end and start < a.end for a in self._items)

    def book(self, name: str, phone: str, start: dt.datetime, minutes: int, reason: str) -> str:
        """Store the appointment and return its id."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        with self._lock:
            appointment = Appointment(f"apt_mem{next(self._ids)}", name, phone, start, minutes, reason)
            self._items.append(appointment)
        return appointment.id

    def cancel(self, phone: str) -> bool:
        """Cancel the caller's next upcoming appointment."""
        now = self._clock()
        with self._lock:
            upcoming = sorted((a for a in self._items if a.phone == phone and a.end > now), key=lambda a: a.start)
            if not upcoming:
                return False
            self._items.remove(upcoming[0])
        return True
