"""Demo data of the AI: assistant "Sophie", the clinic's knowledge base, a phone number and some appointments.

Registered in ``appliance.demo.SEEDERS`` as ``seed_ai_demo``; idempotent like every seeder (it only adds what is
missing, so ``init --demo`` can run again).
"""
from __future__ import annotations

import datetime as dt
import logging

from appliance import appointments, assistants, knowledge, phone_numbers
from appliance.business_hours import local_now
from appliance.security import SecretBox
from appliance.settings import update_settings
from data.ai import Appointment, Assistant, Event, KnowledgeItem, PhoneNumber
from data.base import utcnow
from data.models import Organization
from voice.dialog.demo_kb import DEMO_HOURS, demo_items, demo_profile

logger = logging.getLogger(__name__)

DEMO_ASSISTANT = "Sophie"
DEMO_NUMBER = "+12125550142"
DEMO_SIP_PASSWORD = "demo-sip-password"

# (days from today, time, minutes, name, phone, type, status, quality)
DEMO_APPOINTMENTS = (
    (-6, "09:00", 30, "Maria Gonzalez", "+12125550181", "Check-up and cleaning", "completed", 5),
    (-2, "14:30", 60, "Robert Kim", "+12125550182", "Crown fitting", "completed", 4),
    (-1, "11:00", 30, "Linda Park", "+12125550183", "Whitening consultation", "no_show", None),
    (1, "09:30", 30, "James O'Neil", "+12125550184", "Check-up and cleaning", "confirmed", None),
    (1, "15:00", 45, "Aisha Rahman", "+12125550185", "Filling", "scheduled", None),
    (2, "10:00", 30, "Chen Wei", "+12125550186", "Aligner consultation", "scheduled", None),
    (3, "16:00", 30, "Emily Carter", "+12125550187", "Emergency follow-up", "cancelled", None),
)


def _assistant_body(org_name: str) -> dict:
    profile = demo_profile()
    return {
        "name": DEMO_ASSISTANT, "language": profile.language,
        "greetingMessage": f"Hello, thanks for calling {org_name}. This is {DEMO_ASSISTANT}, how can I help you today?",
        "closingMessage": f"Thanks for calling {org_name}. Have a great day!",
        "tone": profile.tone, "speakingStyle": profile.speaking_style,
        "transferRules": {"confidenceThreshold": round(profile.transfer_confidence_threshold * 100),
                          "maxDuration": profile.max_duration_seconds,
                          "transferOnRequest": profile.transfer_on_request,
                          "lowConfidenceTurns": profile.low_confidence_transfers, "languages": []},
        "transferDestination": profile.transfer_destination,
        "safetyRules": {"forbiddenTopics": list(profile.forbidden_topics), "requireDisclaimers": True,
                        "disclaimer": profile.disclaimer},
        "bookingEnabled": True, "afterHoursAction": "voicemail",
        "businessHours": {day: {"open": span[0], "close": span[1]} for day, span in DEMO_HOURS.items()},
        "appointmentDurationMinutes": profile.appointment_minutes,
    }


def _ensure_assistant(org: Organization, box: SecretBox) -> Assistant:
    row = Assistant.get_or_none((Assistant.organization == org.id) & (Assistant.name == DEMO_ASSISTANT))
    if row is None:
        row = assistants.create(org.id, _assistant_body(org.name))
    if assistants.get_default(org.id) is None or assistants.get_default(org.id).id != row.id:
        update_settings(org.id, {"defaultAssistantId": row.id}, box)
    return row


def _ensure_knowledge(org_id: str) -> int:
    existing = {q.casefold() for (q,) in KnowledgeItem.select(KnowledgeItem.question)
                .where(KnowledgeItem.organization == org_id).tuples()}
    added = 0
    for item in demo_items():
        if item.question.casefold() in existing:
            continue
        knowledge.create(org_id, {"category": item.category, "question": item.question, "answer": item.answer,
                                  "questionVariations": list(item.variations), "isPriority": item.is_priority})
        added += 1
    return added


def _ensure_number(org_id: str, assistant: Assistant, box: SecretBox) -> None:
    if PhoneNumber.select().where(PhoneNumber.organization == org_id).exists():
        return
    phone_numbers.create(org_id, {
        "number": DEMO_NUMBER, "displayName": "Main line", "assistantId": assistant.id,
        "sip": {"server": "pbx.local", "port": 5060, "username": "sunny", "password": DEMO_SIP_PASSWORD,
                "transport": "udp"},
        "businessHours": {day: {"open": span[0], "close": span[1]} for day, span in DEMO_HOURS.items()},
        "afterHoursAction": "voicemail"}, box)


def _business_day(today: dt.date, offset: int) -> dt.date:
    day = today + dt.timedelta(days=offset)
    while day.strftime("%A").lower() not in DEMO_HOURS:
        day += dt.timedelta(days=1 if offset >= 0 else -1)
    return day


def _ensure_appointments(org_id: str, assistant: Assistant) -> None:
    if Appointment.select().where(Appointment.organization == org_id).exists():
        return
    today, started = local_now(org_id).date(), utcnow()
    for offset, time, minutes, name, phone, kind, status, quality in DEMO_APPOINTMENTS:
        row = appointments.create(org_id, {
            "customerName": name, "customerPhone": phone, "appointmentDate": _business_day(today, offset),
            "appointmentTime": time, "durationMinutes": minutes, "appointmentType": kind,
            "assistantId": assistant.id, "qualityScore": quality}, source="AI")
        if status != "scheduled":
            appointments.update(row, {"status": status})
    # Demo bookings are history, not news: keep them out of webhook delivery.
    Event.update(dispatched_at=utcnow()).where(
        (Event.organization == org_id) & (Event.event == "appointment.booked") & Event.dispatched_at.is_null()
        & (Event.created_at >= started)).execute()


def seed_ai_org(org: Organization, box: SecretBox) -> Assistant:
    """Give one organization the demo assistant, knowledge base, phone number and appointments."""
    assistant = _ensure_assistant(org, box)
    added = _ensure_knowledge(org.id)
    _ensure_number(org.id, assistant, box)
    _ensure_appointments(org.id, assistant)
    logger.info("AI demo data ready in %s (%d knowledge items added)", org.id, added)
    return assistant


def seed_ai_demo(ctx) -> None:
    """Seeder for ``appliance.demo.SEEDERS`` (takes its ``DemoContext``)."""
    seed_ai_org(ctx.organization, ctx.secret_box())
