"""Demo call history: about 2,000 calls of the dental clinic over the last 60 days, so every list and chart has
something true to show. Inbound calls follow the clinic's hours (after hours they reach voicemail), outbound calls
are reminders and callbacks; outcomes, languages, durations, sentiment and intents vary as they would; a subset
carries a transcript, a few carry notes and tags. Everything is inserted in bulk inside the seeder's transaction.

Registered in ``appliance.demo.SEEDERS`` as ``seed_calls_demo``; idempotent: it adds nothing when the organization
already has demo calls.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from appliance.business_hours import org_timezone
from data.ai import Assistant, PhoneNumber
from data.base import new_id, utcnow
from data.calls import Call, CallEvent, CallNote, CallTag, TranscriptSegment
from data.models import Membership, User

logger = logging.getLogger(__name__)

DAYS = 60
CALLS_PER_WEEKDAY = (26, 42)
TRANSCRIPT_SHARE = 0.15
BATCH = 200
CLINIC_NUMBER = "+12125550142"
AREA_CODES = ("212", "646", "917", "718")
OPEN_HOURS = {0: (8, 18), 1: (8, 18), 2: (8, 18), 3: (8, 18), 4: (8, 17), 5: (9, 14)}
LANGUAGES = (("en", 80), ("es", 15), ("ko", 3), ("de", 2))
SENTIMENT_SCORE = {"positive": (0.35, 0.9), "neutral": (-0.2, 0.3), "negative": (-0.85, -0.3)}
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # new_id's
GREETING = "Hello, thanks for calling Bright Smile Dental. This is Sophie, how can I help you today?"


@dataclass(frozen=True)
class Scenario:
    """One kind of call: what the caller wanted and how it usually ends."""

    intent: str
    outcome: str
    handled_by: str
    weight: int
    seconds: tuple[int, int]
    moods: tuple[int, int, int]  # weights of positive, neutral, negative
    topics: tuple[str, ...]
    keywords: tuple[str, ...]
    summary: str
    lines: tuple[tuple[str, str], ...]


INBOUND = (
    Scenario("business_hours_inquiry", "INFO", "AI", 25, (35, 120), (6, 4, 0), ("hours",),
             ("saturday hours", "opening hours"), "Caller asked when the clinic is open; the AI gave Saturday hours.",
             (("CALLER", "Hi, what time are you open on Saturday?"),
              ("AI", "On Saturdays we're open from nine a.m. to two p.m."), ("CALLER", "Perfect, thank you!"))),
    Scenario("pricing", "INFO", "AI", 15, (60, 200), (4, 5, 1), ("pricing", "payment"),
             ("cleaning price", "insurance"), "Caller asked the price of a cleaning and whether insurance is taken.",
             (("CALLER", "How much is a cleaning, and do you take Delta Dental?"),
              ("AI", "A check-up with a professional cleaning is a hundred and twenty dollars, and yes, we accept "
                     "Delta Dental."), ("CALLER", "Okay, good to know.")))
    ,
    Scenario("appointment_booking", "BOOKING", "AI", 22, (110, 360), (8, 2, 0), ("booking",),
             ("cleaning appointment", "next tuesday"), "Caller booked a cleaning; the AI confirmed the slot.",
             (("CALLER", "I'd like to book a cleaning next Tuesday morning."),
              ("AI", "I have nine thirty or eleven a.m. on Tuesday. Which works better?"),
              ("CALLER", "Nine thirty, please. My name is Alex Rivera."),
              ("AI", "You're all set for Tuesday at nine thirty a.m. We'll see you then!"))),
    Scenario("cancel_appointment", "OTHER", "AI", 6, (50, 160), (2, 6, 2), ("cancellation", "booking"),
             ("cancel appointment", "reschedule"), "Caller cancelled an appointment and will call back to rebook.",
             (("CALLER", "I need to cancel my appointment on Thursday."),
              ("AI", "No problem, your Thursday appointment is cancelled. Would you like to reschedule?"),
              ("CALLER", "Not yet, I'll call back."))),
    Scenario("complaint", "TRANSFER", "HYBRID", 6, (150, 600), (0, 2, 8), ("complaint", "payment"),
             ("billing mistake", "overcharged"), "Caller complained about a bill; transferred to the front desk.",
             (("CALLER", "I was charged twice for my last visit and nobody called me back."),
              ("AI", "I'm really sorry about that. Let me connect you with someone from our billing team."),
              ("AGENT", "Hi, this is Priya from billing. I see the duplicate charge, I'll refund it today."))),
    Scenario("transfer_request", "TRANSFER", "HYBRID", 8, (60, 420), (2, 6, 2), ("booking",),
             ("speak to someone", "dr nguyen"), "Caller asked for a person; the AI transferred the call.",
             (("CALLER", "Can I speak to someone at the front desk?"),
              ("AI", "Of course, let me connect you with our team."),
              ("AGENT", "Front desk, this is Tom, how can I help?"))),
    Scenario("other", "TRANSFER", "HYBRID", 4, (90, 500), (1, 4, 5), ("booking",),
             ("toothache", "emergency"), "Caller with a toothache asked for an urgent visit; transferred.",
             (("CALLER", "I have a really bad toothache, can someone see me today?"),
              ("AI", "I'm sorry you're in pain. I'll put you through to our team for an emergency slot."),
              ("AGENT", "Hi, we can see you at three today. Can you make it?"))),
    Scenario("other", "OTHER", "HUMAN", 4, (40, 300), (3, 6, 1), ("location",),
             ("parking", "directions"), "A call to the front desk extension about parking and directions.",
             (("CALLER", "Hi, where can I park when I come in?"),
              ("AGENT", "There's a garage right behind the building; we validate tickets."))),
)
VOICEMAIL = Scenario("other", "VOICEMAIL", "AI", 0, (20, 70), (2, 7, 1), (), ("call back",),
                     "After hours: the caller left a voicemail asking for a call back.",
                     (("AI", "We're closed right now. Please leave a message after the tone."),
                      ("CALLER", "Hi, it's Maria, please call me back about my appointment.")))
OUTBOUND = (
    Scenario("appointment_booking", "BOOKING", "AI", 6, (40, 150), (7, 3, 0), ("booking",),
             ("appointment reminder", "confirm"), "Reminder call: the patient confirmed tomorrow's appointment.",
             (("AI", "Hi, this is Sophie from Bright Smile Dental reminding you of your appointment tomorrow at "
                     "ten. Can you confirm?"), ("CALLER", "Yes, I'll be there."),
              ("AI", "Great, you're all set. See you tomorrow!"))),
    Scenario("other", "INFO", "HUMAN", 3, (60, 400), (4, 5, 1), ("payment",),
             ("insurance claim", "call back"), "Front desk called the patient back about an insurance claim.",
             (("AGENT", "Hi, this is Priya from Bright Smile Dental returning your call about the claim."),
              ("CALLER", "Thanks for calling back. Did it go through?"))),
)
NOTES = ("Patient prefers morning appointments.", "Asked us to send the price list by email.",
         "Follow up about the insurance pre-authorization.", "Wheelchair access needed at the side entrance.",
         "Sounded upset; manager called back the same day.")
TAGS = ("vip", "follow-up", "insurance", "new patient", "spanish speaker", "billing")


def _weighted(rng: random.Random, options, weights):
    return rng.choices(options, weights=weights, k=1)[0]


def _number(rng: random.Random) -> str:
    return f"+1{rng.choice(AREA_CODES)}55501{rng.randint(0, 99):02d}"


def _starts(rng: random.Random, org_id: str, now: dt.datetime) -> list[tuple[dt.datetime, bool]]:
    """(UTC start, within opening hours) of every inbound call, busier on weekdays and in late morning."""
    tz, found = org_timezone(org_id), []
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(tz).date()
    for back in range(DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        span = OPEN_HOURS.get(day.weekday())
        count = rng.randint(*CALLS_PER_WEEKDAY) if span and day.weekday() < 5 else rng.randint(4, 12)
        for _ in range(count):
            hour = rng.triangular(7, 21, 11) if span else rng.uniform(0, 24)
            local = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
            start = local.replace(tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
            if start < now - dt.timedelta(minutes=15):
                found.append((start, bool(span) and span[0] <= local.hour < span[1]))
    return found


def _transcript(rng: random.Random, call_id: str, scenario: Scenario, now: dt.datetime) -> list[dict]:
    lines = scenario.lines if scenario.outcome == "VOICEMAIL" or scenario.handled_by == "HUMAN" else (
        (("AI", GREETING),) + scenario.lines)
    rows, at = [], 0.0
    for speaker, text in lines:
        length = max(1.5, len(text.split()) * 0.38)
        rows.append({"id": new_id("seg"), "call": call_id, "speaker": speaker, "text": text, "start_seconds": at,
                     "end_seconds": round(at + length, 2), "created_at": now,
                     "confidence": None if speaker == "AI" else round(rng.uniform(0.72, 0.97), 3)})
        at = round(at + length + rng.uniform(0.4, 1.6), 2)
    return rows


_UNANSWERED = {"handled_by": None, "intent_detected": None, "sentiment": None, "sentiment_score": None,
               "resolved": False, "ai_confidence": None, "extension": None, "outcome_details": None,
               "summary": "No conversation took place."}


class _Builder:
    """Collects the rows of every table, then writes them in batches."""

    def __init__(self, org_id: str, assistant_id: str | None, number_id: str | None, seed: int,
                 timelines: bool = True) -> None:
        self.org_id, self.assistant_id, self.number_id = org_id, assistant_id, number_id
        self.rng, self.now, self.timelines = random.Random(seed), utcnow(), timelines
        self._stamp = new_id("call")[5:15]
        self.calls: list[dict] = []
        self.events: list[dict] = []
        self.segments: list[dict] = []

    def inbound(self, start: dt.datetime, open_now: bool) -> None:
        """A call to the clinic: a scenario by weight while open, voicemail after hours."""
        scenario = _weighted(self.rng, INBOUND, [s.weight for s in INBOUND]) if open_now else VOICEMAIL
        failed = self.rng.random() < 0.02
        status = "failed" if failed else "completed"
        self._add("inbound", _number(self.rng), CLINIC_NUMBER, start, status, None if failed else scenario)

    def outbound(self, start: dt.datetime) -> None:
        """A reminder or callback from the clinic; about a third are not picked up."""
        scenario = _weighted(self.rng, OUTBOUND, [s.weight for s in OUTBOUND])
        status = _weighted(self.rng, ("completed", "no_answer", "busy", "failed"), (62, 25, 9, 4))
        self._add("outbound", CLINIC_NUMBER, _number(self.rng), start, status,
                  scenario if status == "completed" else None)

    def _add(self, direction: str, caller: str, callee: str, start: dt.datetime, status: str,
             scenario: Scenario | None) -> None:
        rng, call_id = self.rng, self._call_id()
        ring = dt.timedelta(seconds=rng.randint(1, 6) if direction == "inbound" else rng.randint(8, 30))
        talk = rng.randint(*scenario.seconds) if scenario else 0
        answered = start + ring if scenario else None
        ended = (answered + dt.timedelta(seconds=talk)) if answered else start + ring
        row = {"id": call_id, "organization": self.org_id, "direction": direction, "status": status,
               "from_number": caller, "to_number": callee, "extension": None, "source": "demo",
               "assistant_id": self.assistant_id, "phone_number_id": self.number_id, "started_at": start,
               "answered_at": answered, "ended_at": ended, "duration_seconds": talk, "created_at": ended,
               "updated_at": ended, "analyzed_at": ended, "topics": [], "keywords": [], "structured_outputs": {},
               "language": _weighted(rng, [l for l, _ in LANGUAGES], [w for _, w in LANGUAGES]),
               "ended_reason": self._reason(direction, status, scenario)}
        # insert_many takes its columns from a batch's first row: every row carries every key
        row.update(self._analysis(scenario, status) if scenario else dict(_UNANSWERED, outcome=(
            "MISSED" if status != "failed" else "OTHER")))
        self.calls.append(row)
        if self.timelines:
            self._timeline(row, scenario)
            if scenario and rng.random() < TRANSCRIPT_SHARE:
                self.segments += _transcript(rng, call_id, scenario, ended)

    def _call_id(self) -> str:
        """Ids like ``new_id``'s (time stamp, then randomness), made from the seeded generator: fast and repeatable."""
        tail = self.rng.getrandbits(60)
        return "call_" + self._stamp + "".join(ID_ALPHABET[(tail >> s) & 31] for s in range(55, -5, -5))

    def _reason(self, direction: str, status: str, scenario: Scenario | None) -> str:
        if status != "completed":
            return {"no_answer": "no_answer", "busy": "busy", "failed": "network_error"}[status]
        if scenario.outcome == "TRANSFER":
            return "transferred"
        return _weighted(self.rng, ("caller_hangup", "assistant_hangup"), (6, 4) if direction == "inbound"
                         else (3, 7))

    def _analysis(self, scenario: Scenario, status: str) -> dict:
        rng = self.rng
        mood = _weighted(rng, ("positive", "neutral", "negative"), scenario.moods)
        low, high = SENTIMENT_SCORE[mood]
        human = scenario.handled_by == "HUMAN"
        return {"outcome": scenario.outcome, "handled_by": scenario.handled_by, "intent_detected": scenario.intent,
                "topics": list(scenario.topics), "keywords": list(scenario.keywords), "summary": scenario.summary,
                "sentiment": mood, "sentiment_score": round(rng.uniform(low, high), 3),
                "resolved": scenario.outcome in ("INFO", "BOOKING") and scenario.handled_by == "AI",
                "ai_confidence": None if human else round(rng.uniform(0.55, 0.98), 3),
                "extension": "1001" if human else None,
                "outcome_details": "Appointment booked" if scenario.outcome == "BOOKING" else None}

    def _timeline(self, row: dict, scenario: Scenario | None) -> None:
        def event(kind: str, at: dt.datetime, data: dict) -> None:
            self.events.append({"id": new_id("cev"), "call": row["id"], "event_type": kind, "data": data,
                                "created_at": at})

        event("started", row["started_at"], {"direction": row["direction"]})
        if row["answered_at"]:
            event("answered", row["answered_at"], {})
        if scenario and scenario.outcome == "TRANSFER":
            event("transferred", row["answered_at"] + (row["ended_at"] - row["answered_at"]) / 3, {"to": "1001"})
        event("ended", row["ended_at"], {"reason": row["ended_reason"], "status": row["status"]})

    def write(self) -> None:
        """Insert everything collected, in batches (the caller holds the transaction)."""
        for model, rows in ((Call, self.calls), (CallEvent, self.events), (TranscriptSegment, self.segments)):
            for at in range(0, len(rows), BATCH):
                model.insert_many(rows[at:at + BATCH]).execute()


def _people(org_id: str) -> list[User]:
    return list(User.select().join(Membership).where(Membership.organization == org_id).order_by(User.email))


def _annotate(builder: _Builder, people: list[User]) -> None:
    """Notes and tags on a few recent answered calls."""
    rng = builder.rng
    answered = [c for c in builder.calls if c["answered_at"]][-400:]
    for row in rng.sample(answered, min(24, len(answered))):
        author = rng.choice(people) if people else None
        CallNote.insert(id=new_id("note"), call=row["id"], author=author.id if author else None,
                        author_name=author.name if author else "API", text=rng.choice(NOTES),
                        created_at=row["ended_at"] + dt.timedelta(minutes=rng.randint(2, 240))).execute()
    tagged = [{"call": row["id"], "tag": tag, "created_at": row["ended_at"]}
              for row in rng.sample(answered, min(45, len(answered))) for tag in rng.sample(TAGS, rng.randint(1, 2))]
    CallTag.insert_many(tagged).execute()


def synthetic_calls(org_id: str, count: int, days: int, seed: int = 1) -> list[dict]:
    """``count`` call rows over the last ``days`` days from the demo's generator, without timelines (benchmarks)."""
    builder = _Builder(org_id, None, None, seed, timelines=False)
    span = days * 86400
    while len(builder.calls) < count:
        start = builder.now - dt.timedelta(seconds=builder.rng.randint(3600, span))
        if builder.rng.random() < 0.8:
            builder.inbound(start, builder.rng.random() < 0.85)
        else:
            builder.outbound(start)
    return builder.calls[:count]


def seed_calls_demo(ctx) -> None:
    """Seeder for ``appliance.demo.SEEDERS``: the demo organization's call history (skipped when present)."""
    org_id = ctx.organization.id
    if Call.select().where((Call.organization == org_id) & (Call.source == "demo")).exists():
        return
    assistant = Assistant.select().where(Assistant.organization == org_id).order_by(Assistant.created_at).first()
    number = PhoneNumber.select().where(PhoneNumber.organization == org_id).order_by(PhoneNumber.created_at).first()
    builder = _Builder(org_id, assistant.id if assistant else None, number.id if number else None, seed=20261123)
    for start, open_now in _starts(builder.rng, org_id, builder.now):
        builder.inbound(start, open_now)
        if open_now and builder.rng.random() < 0.22:
            builder.outbound(start + dt.timedelta(minutes=builder.rng.randint(5, 90)))
    builder.calls = [c for c in builder.calls if c["ended_at"] <= builder.now]  # history only
    builder.calls.sort(key=lambda c: c["started_at"])
    kept = {c["id"] for c in builder.calls}
    builder.events = [e for e in builder.events if e["call"] in kept]
    builder.segments = [s for s in builder.segments if s["call"] in kept]
    builder.write()
    _annotate(builder, _people(org_id))
    logger.info("demo call history: %d calls, %d transcripts", len(builder.calls),
                len({s["call"] for s in builder.segments}))
