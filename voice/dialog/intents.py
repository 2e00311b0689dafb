"""What a caller wants from a turn: the intent, and whether it asks us to act (book, cancel, transfer) or only asks
about something. Rules, not a model: the cues are few and stable, and a rule can be read and fixed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from voice.dialog.text import expand_contractions
from voice.dialog.types import Intent

_DESIRE = (r"(?:i (?:would like|want|need|wanna|have|got|gotta|am trying|was hoping|was wondering if i could)"
           r"|i would love|can i|could i|may i|can you|could you|would you|please|let me|lets|let us|help me"
           r"|i am calling to|i am looking to|id like)")
_PEOPLE = (r"(?:a |an |the |some |your |to )?(?:human(?: being)?|real person|live person|actual person|person|"
           r"operator|receptionist|representative|rep|agent|somebody|someone|anybody|anyone|staff|front desk|"
           r"manager|doctor|dentist|member of (?:your )?(?:staff|team)|team member|people)")

_LEAD = r"^(?:(?:hi|hello|hey|yes|yeah|ok|okay|um|uh|so|and|please|good (?:morning|afternoon|evening)) )*"
"""Filler a caller may put before an order ("hi, book me in ...")."""

_RULES: tuple[tuple[Intent, bool, str], ...] = (
    (Intent.TRANSFER, True,
     rf"\b(?:speak|talk|chat)(?:ing)? (?:to|with) {_PEOPLE}\b|\b(?:transfer|connect|put) me\b|"
     rf"\bput me through\b|\bget me {_PEOPLE}\b|^(?:an? )?(?:operator|representative|human|agent|receptionist|"
     rf"real person|person)(?: please)?$|\b(?:want|need|like) {_PEOPLE}\b|\bwant to speak to\b"),
    (Intent.CANCEL, True,
     rf"{_DESIRE} (?:to )?(?:cancel|call off)\b|^cancel\b|\bcancel (?:my|the|our|this|that) (?:appointment|"
     rf"booking|visit|reservation|cleaning|checkup)"),
    (Intent.BOOKING, True,
     rf"{_DESIRE} (?:to )?(?:book|schedule|reschedule|make|set up|arrange|get|have|come in|see)\b.{{0,40}}"
     rf"\b(?:appointment|visit|booking|cleaning|checkup|check up|consultation|exam|slot|time|in)\b|"
     rf"{_DESIRE} (?:to )?(?:book|schedule|reschedule)\b(?! (?:online|on the website|through))|"
     rf"{_DESIRE} (?:to )?come in\b|"
     rf"\b(?:book|schedule) me\b|\bi need an? (?:appointment|cleaning|checkup)\b|"
     rf"{_DESIRE} (?:an?|another) (?:appointment|visit|booking|cleaning|checkup|check up|consultation|exam)\b|"
     rf"{_LEAD}(?:book|schedule|reserve)\b(?! (?:online|on the website|through))|"
     rf"{_LEAD}(?:make|set up|arrange|get) (?:me )?(?:an?|another) (?:appointment|visit|booking|reservation)\b|"
     rf"\bi (?:want|would like|need) to (?:come in|see (?:the|a) (?:dentist|doctor))\b"),
    (Intent.COMPLAINT, False,
     r"\b(?:complain|complaint|unhappy|not happy|disappointed|terrible|awful|horrible|rude|worst|unacceptable|"
     r"ridiculous|angry|furious|upset|refund|overcharged|never again|waste of|fed up|disgusted|appalling)\b"),
    (Intent.GOODBYE, False,
     r"^(?:ok(?:ay)? |well |alright |great |perfect )?(?:thanks?(?: you)?(?: so much| very much)?[ ,]*)?"
     r"(?:bye|goodbye|good bye|bye bye|see you|that is all|that is it|that is everything|nothing else|no thanks|"
     r"no thank you|i am done|i am all set|all set|that will be all|have a (?:good|nice|great) (?:day|one))\b|"
     r"\b(?:bye|goodbye)\s*$"),
    (Intent.GREETING, False,
     r"^(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|yo)\b(?:\W+\w+){0,4}\W*$"),
    (Intent.PRICING, False,
     r"\b(?:how much|price|prices|pricing|cost|costs|fee|fees|charge|charges|expensive|cheap|afford|quote)\b|\$"),
    (Intent.BUSINESS_HOURS, False,
     r"\b(?:open|opens|opening|close|closes|closing|closed|hours|what time)\b"),
    (Intent.CANCEL, False, r"\b(?:cancel|cancellation|cancelling|canceling)\b"),
    (Intent.BOOKING, False, r"\b(?:appointment|book|booking|schedule|availability|available)\b"),
)
_COMPILED = tuple((intent, strong, re.compile(pattern)) for intent, strong, pattern in _RULES)
_NOT_A_REQUEST = re.compile(r"\b(?:if i|when i|do i (?:need|have to)|policy|fee|notice|"
                            r"how (?:do|can|far|soon|long|early)|best way|online|website|walk)\b")

_YES = re.compile(r"^(?:yes|yeah|yep|yup|ya|sure|correct|right|exactly|that is right|that is correct|ok|okay|"
                  r"alright|sounds good|perfect|great|please do|please|go ahead|absolutely|definitely|"
                  r"that works|fine|of course|do it|book it|confirm|affirmative|uh huh|mhm)\b")
_NO = re.compile(r"^(?:no|nope|nah|not really|not quite|wrong|that is wrong|incorrect|do not|negative|"
                 r"not right|never mind|nevermind|cancel that)\b")


@dataclass(frozen=True)
class IntentResult:
    """The intent of one turn; ``request`` is true when the caller asks us to do it now."""

    intent: Intent
    request: bool = False


def classify(text: str, *, names_time: bool = False) -> IntentResult:
    """Classify one caller turn (typed or recognized).

    ``names_time``: the turn names a day or a time; talk of an appointment with a date ("an appointment for March
    4th at 10am please") is then a request to book, not a question about booking.
    """
    norm = _norm(text)
    if not norm:
        return IntentResult(Intent.OTHER)
    for intent, strong, pattern in _COMPILED:
        if not pattern.search(norm):
            continue
        if strong and intent in (Intent.CANCEL, Intent.BOOKING) and _NOT_A_REQUEST.search(norm):
            continue
        if intent == Intent.BOOKING and names_time and not _NOT_A_REQUEST.search(norm):
            return IntentResult(intent, True)
        return IntentResult(intent, strong)
    return IntentResult(Intent.OTHER)


def yes_no(text: str) -> bool | None:
    """True for an agreement, False for a refusal, None when the turn is neither."""
    norm = _norm(text)
    if _NO.search(norm):
        return False
    if _YES.search(norm):
        return True
    return None


def wants_to_stop(text: str) -> bool:
    """The caller abandons what we were doing together ("never mind", "forget it", "stop")."""
    return bool(re.search(r"\b(?:never ?mind|forget (?:it|about it)|stop|cancel (?:that|it|this)|"
                          r"do not (?:book|bother)|leave it)\b", _norm(text)))


def _norm(text: str) -> str:
    text = expand_contractions(text or "")
    text = re.sub(r"[^\w$' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()
