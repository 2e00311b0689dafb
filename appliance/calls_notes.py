"""Notes and tags on call records (re-exported by ``appliance.calls``)."""
from __future__ import annotations

import re

from appliance.errors import NotFound, ValidationError
from data.base import utcnow
from data.calls import Call, CallNote, CallTag
from data.db import database
from data.models import User

MAX_NOTE = 5000
_TAG = re.compile(r"^\w[\w .:+#/-]{0,49}$")


def add_note(call: Call, user: User | None, text: str) -> CallNote:
    """A note on the call by a person (an API key writes as ``API``)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("content: a note needs text", {"content": ["empty"]})
    return CallNote.create(call=call.id, author=user.id if user else None,
                           author_name=user.name if user else "API", text=text[:MAX_NOTE])


def notes(call: Call) -> list[CallNote]:
    """The call's notes, oldest first."""
    return list(CallNote.select().where(CallNote.call == call.id).order_by(CallNote.created_at, CallNote.id))


def normalize_tag(tag: str) -> str:
    """Tags compare case-insensitively and without surrounding space; 1-50 word characters."""
    cleaned = " ".join((tag or "").split()).lower()
    if not _TAG.match(cleaned):
        raise ValidationError("tag: 1-50 letters, digits, spaces or - _ . : + # /", {"tag": ["invalid"]})
    return cleaned


def add_tag(call: Call, tag: str) -> tuple[str, bool]:
    """Tag the call; (the tag as stored, whether it is new). Tagging twice is harmless."""
    tag = normalize_tag(tag)
    with database.atomic():
        exists = CallTag.select().where((CallTag.call == call.id) & (CallTag.tag == tag)).exists()
        if not exists:
            CallTag.insert(call=call.id, tag=tag, created_at=utcnow()).on_conflict_ignore().execute()
    return tag, not exists


def remove_tag(call: Call, tag: str) -> None:
    """Take a tag off the call; ``NotFound`` when the call does not carry it."""
    tag = " ".join((tag or "").split()).lower()
    if not CallTag.delete().where((CallTag.call == call.id) & (CallTag.tag == tag)).execute():
        raise NotFound("The call has no such tag")


def tags(call: Call) -> list[str]:
    """The call's tags in the order they were added."""
    return [t for (t,) in CallTag.select(CallTag.tag).where(CallTag.call == call.id)
            .order_by(CallTag.created_at, CallTag.tag).tuples()]
