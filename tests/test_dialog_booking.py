"""Booking and cancelling by conversation: date expressions, business hours, conflicts, read-back, time zones."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from voice.dialog import Conversation, InMemoryBooking, KnowledgeIndex, State
from voice.dialog.demo_kb import demo_items, demo_profile
from voice.dialog.embedding import shared_encoder
from voice.dialog.memory_booking import Appointment

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2025, 11, 26, 15, 0, tzinfo=dt.timezone.utc)  # Wednesday 10:00 in New York
PHONE = "+15550001111"


@pytest.fixture(scope="module")
def index():
    return KnowledgeIndex.build(demo_items(), shared_encoder())


@pytest.fixture
def backend():
    return InMemoryBooking(lambda: NOW)


@pytest.fixture
def call(index, backend):
    """Run caller lines through a fresh greeted conversation; returns (replies, conversation)."""
    def run(*lines, caller_phone=PHONE, **profile):
        conv = Conversation(demo_profile(**profile), index, backend, lambda: NOW, caller_phone)
        conv.greet()
        return [conv.handle(line) for line in lines], conv
    return run


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize("request_text, start", [
    ("I want to book a cleaning next Saturday at eleven", at(29, 11)),
    ("Can I make an appointment for the 3rd of December at half past two?", at(3, 14, 30, 12)),
    ("I'd like to come in on Friday at 9:30am", at(28, 9, 30)),
    ("could you book me in for Tuesday next week at ten", at(2, 10, 0, 12)),
    ("I need an appointment on December 1st at 3 pm", at(1, 15, 0, 12)),
])
def test_book_in_one_breath_then_name_and_confirm(call, backend, request_text, start):
    replies, conv = call(request_text, "my name is Jane Smith")
    if conv.state == State.BOOKING_REASON:
        replies.append(conv.handle("a checkup"))
    replies.append(conv.handle("yes"))
    asked = [r.state for r in replies]
    assert asked[0] == "BOOKING_NAME" and asked[-2] == "CONFIRMING"
    assert "Jane Smith" in replies[-2].text and replies[-2].action == "confirm"
    booked = replies[-1]
    assert booked.action == "book" and booked.appointment_id and booked.intent == "appointment_booking"
    [appointment] = backend.appointments
    assert appointment.start == start and appointment.name == "Jane Smith" and appointment.phone == PHONE
    assert booked.appointment["start"] == start.isoformat() and booked.appointment["minutes"] == 30
    assert conv.state == State.LISTENING


@pytest.mark.parametrize("request_text", [
    "book an appointment for March 4th at 10am",
    "Book an appointment for March 4th at 10am.",
    "appointment for March 4th at 10am please",
    "I'd like an appointment for March 4th at 10am",
    "make an appointment for March 4th at 10am",
    "Hi, book an appointment for the 4th of March at 10 am",
    "set up an appointment on march fourth at ten a.m.",
])
def test_absolute_dates_with_month_names_start_booking(call, backend, request_text):
    replies, conv = call(request_text, "Jane Smith", "a checkup")
    assert [r.state for r in replies] == ["BOOKING_NAME", "BOOKING_REASON", "CONFIRMING"]
    assert "March" in replies[-1].text and replies[0].intent == "appointment_booking"
    assert conv.handle("yes").action == "book"
    assert backend.appointments[0].start == at(4, 10, 0, 3).replace(year=2026)


@pytest.mark.parametrize("question", ["Do I need an appointment or can I just show up?",
                                      "How soon can I get an appointment?",
                                      "Can I make an appointment on your website?"])
def test_questions_about_appointments_are_not_bookings(call, question):
    replies, conv = call(question)
    assert conv.state not in (State.BOOKING_DATE, State.BOOKING_NAME) and replies[0].action in ("answer", "clarify")


def test_reason_from_the_request_is_not_asked_again(call, backend):
    replies, _ = call("I'd like to book a teeth whitening next Saturday at ten", "Bob", "yes")
    assert [r.state for r in replies] == ["BOOKING_NAME", "CONFIRMING", "LISTENING"]
    assert backend.appointments[0].reason == "teeth whitening"


def test_part_of_day_gets_the_first_opening_proposed(call, backend):
    backend.book("Busy", "1", at(27, 12), 30, "x")
    replies, _ = call("I'd like to make an appointment", "tomorrow afternoon", "yes", "Ann Lee", "cleaning", "yes")
    assert replies[1].text.startswith("The first opening is tomorrow at twelve thirty p.m.")
    assert backend.appointments[-1].start == at(27, 12, 30)


def test_busy_slot_proposes_the_closest_free_one(call, backend):
    backend.book("Someone", "2", at(29, 11), 30, "x")
    replies, _ = call("book me for next Saturday at eleven", "yes", "Kim", "filling", "yes")
    assert "already taken" in replies[0].text and "ten thirty a.m." in replies[0].text
    assert replies[-1].action == "book"
    assert sorted(a.start for a in backend.appointments) == [at(29, 10, 30), at(29, 11)]


def test_closed_day_outside_hours_and_past_times(call):
    replies, _ = call("I want to come in on Sunday at 10")
    assert "closed on Sundays" in replies[0].text and "Monday, December first at eight a.m." in replies[0].text
    replies, _ = call("book an appointment for Friday at 7pm")
    assert "open from eight a.m. to six p.m." in replies[0].text and "five thirty p.m." in replies[0].text
    replies, _ = call("can I book something today at 9am")
    assert "already passed" in replies[0].text and replies[0].state == "BOOKING_DATE"


def test_refusing_a_proposal_and_giving_another_time(call, backend):
    replies, _ = call("I want to come in on Sunday at 10", "no", "Monday at 3", "Ann", "cleaning", "yes")
    assert replies[1].text.startswith("No problem")
    assert backend.appointments[0].start == at(1, 15, 0, 12)


def test_no_at_read_back_lets_the_caller_change_the_time(call, backend):
    replies, _ = call("book a checkup next Saturday at eleven", "Jo", "no", "Friday at ten", "yes")
    assert replies[2].state == "BOOKING_DATE"
    assert backend.appointments[0].start == at(28, 10)


def test_slot_taken_between_read_back_and_yes(call, backend):
    replies, conv = call("book a checkup next Saturday at eleven", "Jo")
    assert conv.state == State.CONFIRMING
    backend.book("Faster caller", "3", at(29, 11), 30, "x")
    reply = conv.handle("yes")
    assert reply.action != "book" and "already taken" in reply.text
    assert conv.handle("yes").action == "confirm"  # the new time is read back before booking
    assert conv.handle("yes").action == "book"
    assert len(backend.appointments) == 2


def test_without_caller_id_the_phone_number_is_asked(call, backend):
    replies, _ = call("book a cleaning next Saturday at eleven", "Ann", "five five five, one two three, "
                      "four five six seven", "yes", caller_phone=None)
    assert replies[1].state == "BOOKING_PHONE" and replies[-1].action == "book"
    assert backend.appointments[0].phone == "5551234567"


def test_side_question_is_answered_and_booking_resumes(call):
    replies, conv = call("I'd like to book an appointment for Monday at 3", "how much is a cleaning?")
    assert replies[1].knowledge_id == "kb_demo_price_cleaning" and "what name" in replies[1].text
    assert conv.state == State.BOOKING_NAME


def test_caller_can_abandon_and_repeated_nonsense_ends_the_booking(call, backend):
    replies, _ = call("I'd like to book an appointment", "never mind")
    assert replies[-1].state == "LISTENING" and "booking_abandoned" in replies[-1].flags
    replies, _ = call("I'd like to book an appointment", "blue", "green", "purple")
    assert replies[-1].state == "LISTENING" and "booking_abandoned" in replies[-1].flags
    assert backend.appointments == []


def test_booking_disabled_or_without_backend_falls_back_to_the_knowledge(index):
    conv = Conversation(demo_profile(booking_enabled=False), index, InMemoryBooking(lambda: NOW), lambda: NOW)
    conv.greet()
    assert conv.handle("I'd like to book an appointment").state != "BOOKING_DATE"
    conv = Conversation(demo_profile(), index, None, lambda: NOW)
    conv.greet()
    reply = conv.handle("how do I book an appointment")
    assert reply.knowledge_id == "kb_demo_booking_how"


def test_cancel_an_upcoming_appointment(call, backend):
    backend.book("Jane", PHONE, at(29, 11), 30, "cleaning")
    replies, _ = call("I need to cancel my appointment", "yes")
    assert replies[0].action == "confirm" and replies[0].intent == "cancel_appointment"
    assert "appointment_cancelled" in replies[1].flags and backend.appointments == []


def test_cancel_without_an_appointment_or_when_the_caller_changes_their_mind(call, backend):
    replies, _ = call("cancel my appointment please", "yes")
    assert "appointment_not_found" in replies[1].flags
    backend.book("Jane", PHONE, at(29, 11), 30, "cleaning")
    replies, _ = call("I want to cancel my booking", "no")
    assert len(backend.appointments) == 1 and "leave your appointment" in replies[1].text


def test_cancellation_policy_question_is_not_a_cancellation(call):
    replies, _ = call("is there a fee if I cancel?")
    assert replies[0].knowledge_id == "kb_demo_cancel_policy" and replies[0].state == "LISTENING"


def test_reschedule_cancels_the_old_appointment_and_books_the_new(call, backend):
    backend.book("Jane", PHONE, at(28, 9), 30, "cleaning")
    replies, _ = call("I'd like to reschedule my appointment to Monday at 10", "Jane", "cleaning", "yes")
    assert replies[-1].action == "book" and "rescheduled" in replies[-1].flags
    assert [a.start for a in backend.appointments] == [at(1, 10, 0, 12)]


def test_dtmf_answers_the_read_back(call, backend, index):
    _, conv = call("book a checkup next Saturday at eleven", "Jo")
    assert conv.handle("", dtmf="1").action == "book"


def test_memory_backend_contract():
    backend = InMemoryBooking(lambda: NOW, [Appointment("a", "A", "1", at(27, 9), 30, "x")])
    assert not backend.is_free(at(27, 9, 15), 30) and backend.is_free(at(27, 9, 30), 30)
    with pytest.raises(ValueError):
        backend.book("B", "2", dt.datetime(2025, 11, 27, 9), 30, "x")
    assert backend.cancel("1") and not backend.cancel("1")
