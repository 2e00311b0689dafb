"""A second held-out paraphrase set for bench/brain.py, written after the first round of tuning and before the
second (embedding model, calibration) was started. It is never looked at while tuning: it only measures.

Same conventions as ``brain_paraphrases``: ASR lines are written as an 8 kHz recognizer returns speech (lower case,
no punctuation, numbers in words, one or more realistic mistakes). Every phrase here is held out.
"""
from __future__ import annotations

ASR, CLEAN = True, False

NEW_PARAPHRASES: dict[str, list[tuple[str, bool]]] = {
    "kb_demo_hours": [
        ("When do you open tomorrow?", CLEAN),
        ("What time does the office close today?", CLEAN),
        ("what are you're hours on wednesday", ASR),
        ("when do you guys clothes for the day", ASR),
    ],
    "kb_demo_weekend": [
        ("Can I come in on a Saturday morning?", CLEAN),
        ("Are you open at all on Sundays?", CLEAN),
        ("are you guys open on satur day", ASR),
        ("is the clinic open this sun day", ASR),
    ],
    "kb_demo_holidays": [
        ("Are you closed on Memorial Day?", CLEAN),
        ("Will the office be open the day after Christmas?", CLEAN),
        ("are you guys open on thanks giving", ASR),
        ("do you close for bank holly days", ASR),
    ],
    "kb_demo_location": [
        ("What's your street address?", CLEAN),
        ("Where is the clinic, is it downtown?", CLEAN),
        ("where's you're office at", ASR),
        ("what part of town are you guys and", ASR),
    ],
    "kb_demo_parking": [
        ("Where should I park when I come in?", CLEAN),
        ("Is parking free for patients?", CLEAN),
        ("do you have a parking lock", ASR),
        ("can i park on the straight", ASR),
    ],
    "kb_demo_transit": [
        ("Which train station is closest to you?", CLEAN),
        ("I don't drive, can I get to you on the bus?", CLEAN),
        ("what bus line goes buy your office", ASR),
        ("can i get their by train", ASR),
    ],
    "kb_demo_access": [
        ("Is there an elevator in the building?", CLEAN),
        ("My dad has a walker, is it easy to get in?", CLEAN),
        ("is the building wheel chair friendly", ASR),
        ("do you have step free axis", ASR),
    ],
    "kb_demo_new_patients": [
        ("I just moved here, can I become a patient at your clinic?", CLEAN),
        ("Are you still taking on new patients?", CLEAN),
        ("can my kids register as new patience", ASR),
        ("are you guys taking new patient", ASR),
    ],
    "kb_demo_first_visit": [
        ("What do I need to bring for my first appointment?", CLEAN),
        ("Do I need to bring my insurance card on the first visit?", CLEAN),
        ("how early should i show up for my first a point meant", ASR),
        ("what do i need to bring on my fur visit", ASR),
    ],
    "kb_demo_price_cleaning": [
        ("What's the price of a teeth cleaning?", CLEAN),
        ("How much is a checkup and cleaning?", CLEAN),
        ("what does a cleaning coast", ASR),
        ("how much is a teeth clean ing", ASR),
    ],
    "kb_demo_price_whitening": [
        ("What do you charge for whitening?", CLEAN),
        ("How much is the take-home whitening kit?", CLEAN),
        ("how much to wide in my teeth", ASR),
        ("what's the cost of teeth lightning", ASR),
    ],
    "kb_demo_price_filling": [
        ("How much do you charge for a filling?", CLEAN),
        ("What would it cost to fix a cavity?", CLEAN),
        ("how much is a filing", ASR),
        ("what's the price for a tooth colored fill in", ASR),
    ],
    "kb_demo_price_crown": [
        ("What's the price of a crown?", CLEAN),
        ("How much do you charge for a cap on a tooth?", CLEAN),
        ("how much does a crowned cost", ASR),
        ("what do you charge for a porcelain round", ASR),
    ],
    "kb_demo_price_root_canal": [
        ("What's the cost of a root canal?", CLEAN),
        ("How expensive is root canal treatment?", CLEAN),
        ("how much for a roof canal", ASR),
        ("what does a root can all cost", ASR),
    ],
    "kb_demo_price_implant": [
        ("What's the price of a dental implant?", CLEAN),
        ("How much would it cost to replace a missing tooth?", CLEAN),
        ("how much is an in plant", ASR),
        ("what do you charge for a tooth in plan", ASR),
    ],
    "kb_demo_price_aligners": [
        ("What do clear aligners cost?", CLEAN),
        ("How much are braces for adults?", CLEAN),
        ("how much is in visa line", ASR),
        ("what's the price of clear liners", ASR),
    ],
    "kb_demo_consultation": [
        ("Is the first consultation free of charge?", CLEAN),
        ("Do you charge anything for an implant consultation?", CLEAN),
        ("is the constitution free", ASR),
        ("how much is a consult a shun", ASR),
    ],
    "kb_demo_aligner_delivery": [
        ("When will my Invisalign be ready?", CLEAN),
        ("Can you ship my aligners to me?", CLEAN),
        ("how long till my a liners come", ASR),
        ("do you male the trays to my home", ASR),
    ],
    "kb_demo_aligner_lost": [
        ("I broke my aligner, what should I do?", CLEAN),
        ("What does it cost to replace a lost aligner?", CLEAN),
        ("i lost my in visa line tray", ASR),
        ("my dog chewed my line her", ASR),
    ],
    "kb_demo_insurance": [
        ("Do you take Cigna?", CLEAN),
        ("Which dental plans are you in network with?", CLEAN),
        ("do you take met life", ASR),
        ("do you accept my dental ensurance", ASR),
    ],
    "kb_demo_no_insurance": [
        ("I'm uninsured, what can I do?", CLEAN),
        ("Do you have a discount plan for people with no insurance?", CLEAN),
        ("i don't have insurance what are my auctions", ASR),
        ("how does your member ship work", ASR),
    ],
    "kb_demo_payment": [
        ("Can I pay with Apple Pay?", CLEAN),
        ("Do you accept debit cards?", CLEAN),
        ("can i pay with cache", ASR),
        ("do you take f s a cards", ASR),
    ],
    "kb_demo_financing": [
        ("Do you offer financing?", CLEAN),
        ("Can I pay for my implant in monthly payments?", CLEAN),
        ("do you have pay men plans", ASR),
        ("can i pay over time with care credit", ASR),
    ],
    "kb_demo_billing": [
        ("Who do I call about a billing question?", CLEAN),
        ("I was charged twice for the same visit.", CLEAN),
        ("i have a question about my bell", ASR),
        ("i need to talk to some one about my statement", ASR),
    ],
    "kb_demo_booking_how": [
        ("How do I book an appointment with you?", CLEAN),
        ("Is there a way to book online?", CLEAN),
        ("can i make an appointment on the web site", ASR),
        ("how do i book and appointment", ASR),
    ],
    "kb_demo_booking_wait": [
        ("How long until I can get in?", CLEAN),
        ("Do you have any openings next week?", CLEAN),
        ("what's you're next available appointment", ASR),
        ("can you see me sometime this weak", ASR),
    ],
    "kb_demo_walk_in": [
        ("Do you take walk-in patients?", CLEAN),
        ("Can I just drop by today without an appointment?", CLEAN),
        ("do you except walk ins", ASR),
        ("can i just stop buy", ASR),
    ],
    "kb_demo_cancel_policy": [
        ("What's your policy on cancellations?", CLEAN),
        ("Is there a fee for missing an appointment?", CLEAN),
        ("do you charge a fee if i can sell", ASR),
        ("how many ours notice do you need to reschedule", ASR),
    ],
    "kb_demo_late": [
        ("What if I'm late for my appointment?", CLEAN),
        ("I'm going to be about twenty minutes late.", CLEAN),
        ("i'm going to be late to my a point meant", ASR),
        ("what happens if i'm light", ASR),
    ],
    "kb_demo_emergency": [
        ("I think I have an abscess and my face is swelling up.", CLEAN),
        ("I cracked a tooth and it's bleeding.", CLEAN),
        ("i have a really bad tooth ache", ASR),
        ("do you have an emergency number for after ours", ASR),
    ],
    "kb_demo_children": [
        ("What age do you start seeing kids?", CLEAN),
        ("Can I bring my toddler for a checkup?", CLEAN),
        ("do you treat chilled wren", ASR),
        ("is my three year old to young to see the dentist", ASR),
    ],
    "kb_demo_dentists": [
        ("Who are the doctors at your clinic?", CLEAN),
        ("Is there an implant specialist on staff?", CLEAN),
        ("who is your dennis", ASR),
        ("is doctor chin a good dentist", ASR),
    ],
    "kb_demo_languages": [
        ("Do any of your staff speak Mandarin?", CLEAN),
        ("What languages do you speak at the clinic?", CLEAN),
        ("does any one they're speak spanish", ASR),
        ("is there anyone there who speaks man darin", ASR),
    ],
    "kb_demo_anxiety": [
        ("I'm terrified of the dentist, what can you do?", CLEAN),
        ("Do you offer laughing gas?", CLEAN),
        ("do you offer said asian", ASR),
        ("i get really and shush at the dentist", ASR),
    ],
    "kb_demo_wisdom": [
        ("Do you do tooth extractions?", CLEAN),
        ("My wisdom tooth hurts, can you take it out?", CLEAN),
        ("can you pull a whiz dumb tooth", ASR),
        ("do you do extra actions", ASR),
    ],
    "kb_demo_xray": [
        ("How much radiation do your x-rays give off?", CLEAN),
        ("Are x-rays safe during pregnancy?", CLEAN),
        ("do i have to get x rays", ASR),
        ("are the x ray save", ASR),
    ],
    "kb_demo_records": [
        ("Can you request my records from my old dentist?", CLEAN),
        ("How do I get my dental history transferred to you?", CLEAN),
        ("can you get my x rays from my old dennis", ASR),
        ("how do i trans for my records", ASR),
    ],
    "kb_demo_contact": [
        ("Can I email you my questions?", CLEAN),
        ("What email address should I use?", CLEAN),
        ("what's your email at rest", ASR),
        ("can i reach you by a male", ASR),
    ],
}

# Questions the demo knowledge base cannot answer: the right reply is "I don't know" (and an offer), never an answer.
NEW_UNKNOWN: list[tuple[str, bool]] = [
    ("Do you make dentures?", CLEAN),
    ("Do you offer teeth grinding treatment?", CLEAN),
    ("What's the wifi password?", CLEAN),
    ("Do you have a lost and found? I left my umbrella there.", CLEAN),
    ("Are you hiring a receptionist?", CLEAN),
    ("Do you sell mouthwash?", CLEAN),
    ("What time does the pharmacy next door close?", CLEAN),
    ("Can you recommend a good dermatologist?", CLEAN),
    ("do you do botox for my four head", ASR),
    ("can i get a note for my work", ASR),
    ("what's the whiff i password", ASR),
    ("are you guys hiring hygienist", ASR),
    ("do you have a vending machine in the lobby", ASR),
    ("can you call me a taxi", ASR),
    ("do you do tongue piercing removal", ASR),
    ("do you sell tooth paste", ASR),
]


def new_held_out() -> list[tuple[str, str | None, bool]]:
    """Every new phrase as (text, expected id or None for unknown, is_asr)."""
    rows = [(text, kid, is_asr) for kid, phrases in NEW_PARAPHRASES.items() for text, is_asr in phrases]
    return rows + [(text, None, is_asr) for text, is_asr in NEW_UNKNOWN]
