"""The conversation brain: knowledge retrieval, intents, booking, transfer and safety rules (pure Python, no audio).

Build a ``KnowledgeIndex`` once per knowledge base, then one ``Conversation`` per call or test session::

    index = KnowledgeIndex.build(items)
    conv = Conversation(profile, index, booking=backend, clock=clock, caller_phone="+15551234567")
    conv.greet(); reply = conv.handle("how much is a cleaning?")
"""
from voice.dialog.conversation import Conversation
from voice.dialog.memory_booking import InMemoryBooking
from voice.dialog.retrieval import KnowledgeIndex, Match
from voice.dialog.types import (AssistantProfile, BookingBackend, Intent, KnowledgeItem, Phraser, Reply, State)

__all__ = ["AssistantProfile", "BookingBackend", "Conversation", "InMemoryBooking", "Intent", "KnowledgeIndex",
           "KnowledgeItem", "Match", "Phraser", "Reply", "State"]
