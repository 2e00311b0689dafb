"""The engine's own lines in the assistant's tone, answer length by speaking style, and the optional Phraser hook."""
from __future__ import annotations

import logging

from voice.dialog.speech_text import speakable
from voice.dialog.types import AssistantProfile, Phraser

logger = logging.getLogger(__name__)

# Style -> (sentences, words) an answer may keep when spoken.
STYLE_LIMITS = {"concise": (1, 25), "balanced": (2, 35), "detailed": (2, 50), "conversational": (2, 35)}

_LINES: dict[str, dict[str, str]] = {
    "friendly": {
        "not_sure": "I'm sorry, I don't have an answer to that.",
        "offer_transfer": "I can connect you with someone from our team, or you can ask me something else. "
                          "Would you like me to connect you?",
        "offer_callback": "I can ask someone from our team to call you back. Would you like that?",
        "yes_or_no": "Sorry, I didn't quite get that.",
        "ask_again_transfer": "Would you like me to connect you with someone from our team? Please say yes or no.",
        "ask_again_callback": "Would you like someone from our team to call you back? Please say yes or no.",
        "clarify": "Just to make sure I understood, are you asking: {question}",
        "repeat": "Sorry, I didn't catch that. Could you say it again?",
        "transfer": "Sure, let me connect you with someone from our team. Please hold for a moment.",
        "transfer_unavailable": "I'm sorry, there's no one available to take your call right now.",
        "anything_else": "Of course. What else can I help you with?",
        "greeting_back": "Hi there! How can I help you today?",
        "complaint": "I'm really sorry to hear that.",
        "callback_noted": "Okay, I've noted that you'd like a call back. Someone from our team will call you soon.",
        "identity": "I'm {name}, the virtual assistant{business}. I can answer questions, book appointments, "
                    "or connect you with our team.",
    },
    "professional": {
        "not_sure": "I'm afraid I don't have that information.",
        "offer_transfer": "I can connect you with a member of our staff. Would you like me to do that?",
        "offer_callback": "I can arrange for a member of our staff to call you back. Would you like that?",
        "yes_or_no": "I'm sorry, I didn't understand your answer.",
        "ask_again_transfer": "Shall I connect you with a member of our staff? Please answer yes or no.",
        "ask_again_callback": "Shall I arrange a call back from our staff? Please answer yes or no.",
        "clarify": "To be sure I understand, is your question: {question}",
        "repeat": "I'm sorry, I didn't hear that. Could you please repeat it?",
        "transfer": "Certainly. I'll connect you with a member of our staff now. Please hold.",
        "transfer_unavailable": "Unfortunately, no one is available to take your call at the moment.",
        "anything_else": "Certainly. How else may I help you?",
        "greeting_back": "Hello. How may I help you?",
        "complaint": "I apologize for the inconvenience.",
        "callback_noted": "Thank you. I've recorded your request, and a member of our staff will call you back.",
        "identity": "I'm {name}, the automated assistant{business}. I can answer questions, book appointments, "
                    "or connect you with our staff.",
    },
}
_LINES["casual"] = {**_LINES["friendly"], "transfer": "Sure thing, I'll get someone from the team for you. "
                    "Hang on a sec.", "anything_else": "No problem. Anything else?"}
_LINES["formal"] = _LINES["professional"]
_LANGUAGE_HANDOFF = {
    "es": "Un momento, por favor. Le comunico con una persona.",
    "fr": "Un instant, s'il vous plaît. Je vous mets en relation avec une personne.",
    "de": "Einen Moment bitte. Ich verbinde Sie mit einem Mitarbeiter.",
    "it": "Un momento, per favore. La metto in contatto con una persona.",
    "pt": "Um momento, por favor. Vou transferi-lo para uma pessoa.",
    "nl": "Een moment alstublieft. Ik verbind u door met een medewerker.",
}


def line(profile: AssistantProfile, key: str, **values: str) -> str:
    """One of the engine's own lines in the profile's tone."""
    table = _LINES.get((profile.tone or "friendly").lower(), _LINES["friendly"])
    business = f" for {profile.business_name}" if profile.business_name else ""
    return table[key].format(name=profile.name, business=business, **values)


def language_handoff(language: str | None) -> str:
    """A short "please hold" in the caller's language, if we know one."""
    return _LANGUAGE_HANDOFF.get((language or "")[:2], "")


def answer_text(profile: AssistantProfile, question: str, answer: str, phraser: Phraser | None) -> str:
    """A knowledge answer ready to be spoken: optionally reworded, shortened by style, numbers in words."""
    text = answer
    if phraser is not None:
        try:
            reworded = phraser.phrase(question, answer, profile=profile)
        except Exception:  # an add-on (an LLM over HTTP) may fail in any way; the engine's own answer stands
            logger.warning("phraser failed; using the knowledge answer", exc_info=True)
            reworded = None
        if isinstance(reworded, str) and reworded.strip():
            text = reworded.strip()
    sentences, words = STYLE_LIMITS.get((profile.speaking_style or "balanced").lower(), STYLE_LIMITS["balanced"])
    return speakable(text, sentences, words)
