"""Call setup: from a dialed number (or a dial request) to the organization, assistant and dialog of one call.

Runs on the thread that offers the call to the application (never the SIP receive thread or an RTP thread) and
reads the database: the phone number, its business-hours route, the assistant, the knowledge index (cached per
organization) and the words the recognizer should favour.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from appliance import addons, assistants, knowledge, phone_numbers
from appliance.brain import DbBooking, IndexCache, profile_for
from data.ai import Assistant, PhoneNumber
from data.models import Organization, OrgSettings
from voice.dialog import Conversation
from voice.dialog.types import AssistantProfile

logger = logging.getLogger(__name__)

MAX_PHRASES = 2000
AFTER_HOURS_GREETING = ("Thank you for calling {business}. We are closed right now. Please leave your name, "
                        "number and a short message after this, and we will call you back.")
VOICEMAIL_THANKS = "Thank you, we have your message. Goodbye."
TRANSFER_LINE = "Please hold while I connect you."


@dataclass(frozen=True)
class Plan:
    """What an incoming or outgoing call gets."""

    action: str
    """``assistant``, ``voicemail`` (take a message), ``transfer`` (hand the caller on) or ``reject``."""
    org_id: str = ""
    assistant_id: str | None = None
    phone_number_id: str | None = None
    language: str = "en"
    destination: str | None = None
    reject_code: int = 404


def find_number(dialed: str) -> PhoneNumber | None:
    """The active phone number a call was dialed to (by E.164 number, with or without +, or SIP user name)."""
    dialed = (dialed or "").strip()
    if not dialed:
        return None
    candidates = {dialed, dialed.lstrip("+"), "+" + dialed.lstrip("+")}
    active = PhoneNumber.select().where(PhoneNumber.is_active)
    row = active.where(PhoneNumber.number.in_(list(candidates))).order_by(PhoneNumber.created_at).first()
    return row or active.where(PhoneNumber.sip_username == dialed).order_by(PhoneNumber.created_at).first()


def inbound_plan(dialed: str) -> Plan:
    """Route a call to ``dialed``: its number's assistant, voicemail, a transfer, or a rejection."""
    row = find_number(dialed)
    if row is None:
        return Plan("reject", reject_code=404)
    route = phone_numbers.route(row)
    assistant = Assistant.get_or_none(Assistant.id == route.assistant_id) if route.assistant_id else None
    assistant = assistant or assistants.get_default(row.organization_id)
    language = assistant.language if assistant else "en"
    common = dict(org_id=row.organization_id, assistant_id=assistant.id if assistant else None,
                  phone_number_id=row.id, language=language)
    if route.action == "hangup":
        return Plan("reject", reject_code=480, **common)
    if route.action == "transfer" and route.destination:
        return Plan("transfer", destination=route.destination, **common)
    if route.action == "voicemail" or assistant is None:
        return Plan("voicemail", **common)
    return Plan("assistant", **common)


def outbound_plan(org_id: str, assistant_id: str | None, phone_number_id: str | None) -> Plan:
    """The assistant and caller-ID number of a call we place."""
    assistant = Assistant.get_or_none((Assistant.id == assistant_id) & (Assistant.organization == org_id)) \
        if assistant_id else assistants.get_default(org_id)
    number = None
    if phone_number_id:
        number = PhoneNumber.get_or_none((PhoneNumber.id == phone_number_id) & (PhoneNumber.organization == org_id))
    if number is None:
        number = (PhoneNumber.select().where((PhoneNumber.organization == org_id) & PhoneNumber.is_active)
                  .order_by(PhoneNumber.created_at).first())
    return Plan("assistant", org_id, assistant.id if assistant else None, number.id if number else None,
                assistant.language if assistant else "en")


def conversation_for(plan: Plan, record_id: str, caller: str, cache: IndexCache) -> Conversation:
    """The dialog engine of one call (voicemail calls get a one-question dialog that takes the message)."""
    org = Organization.get_by_id(plan.org_id)
    assistant = Assistant.get_or_none(Assistant.id == plan.assistant_id) if plan.assistant_id else None
    profile = profile_for(org, assistant, booking_allowed=addons.is_enabled(org.id, "appointments_by_ai"))
    if plan.action == "voicemail":
        profile = _voicemail_profile(profile, org.name)
    elif plan.action == "transfer":
        profile = _with(profile, greeting=TRANSFER_LINE, transfer_destination=plan.destination)
    booking = DbBooking(org.id, plan.assistant_id, record_id)
    return Conversation(profile, cache.index_for(org.id), booking, caller_phone=caller or None)


def _voicemail_profile(profile: AssistantProfile, business: str) -> AssistantProfile:
    return _with(profile, greeting=AFTER_HOURS_GREETING.format(business=business or "us"),
                 closing=VOICEMAIL_THANKS)


def _with(profile: AssistantProfile, **changes) -> AssistantProfile:
    return AssistantProfile.from_dict({**profile.to_dict(), **changes})


def phrases_for(org_id: str) -> tuple[str, ...]:
    """What callers of this business say: its knowledge questions and their variations (recognizer adaptation)."""
    phrases: list[str] = []
    for item in knowledge.active_items(org_id):
        phrases.append(item.question)
        phrases.extend(item.question_variations or ())
    return tuple(p for p in phrases if p and p.strip())[:MAX_PHRASES]


def recording_enabled(org_id: str) -> bool:
    """Whether the workspace records calls (settings ``recordingEnabled`` and the ``call_recording`` add-on)."""
    row = OrgSettings.get_or_none(OrgSettings.organization == org_id)
    enabled = bool((row.data or {}).get("recordingEnabled", True)) if row else True
    return enabled and addons.is_enabled(org_id, "call_recording")


def voicemail_message(org_id: str, assistant_id: str | None) -> str:
    """What we leave on an answering machine (the assistant's ``voice.voicemailMessage`` when it has one)."""
    assistant = Assistant.get_or_none(Assistant.id == assistant_id) if assistant_id else None
    custom = (assistant.voice or {}).get("voicemailMessage") if assistant else None
    if custom:
        return str(custom)
    org = Organization.get_by_id(org_id)
    name = assistant.name if assistant else "the team"
    return (f"Hello, this is {name} from {org.name}. We tried to reach you and will try again later. "
            f"You can also call us back at any time. Goodbye.")


def machine_action(assistant_id: str | None, default: str) -> str:
    """``message`` or ``hangup`` when a machine answers (the assistant's ``voice.voicemailAction`` wins)."""
    assistant = Assistant.get_or_none(Assistant.id == assistant_id) if assistant_id else None
    wanted = (assistant.voice or {}).get("voicemailAction") if assistant else None
    return wanted if wanted in ("message", "hangup") else default
