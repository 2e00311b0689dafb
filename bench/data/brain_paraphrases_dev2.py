"""A second tuning (dev) paraphrase set for bench/brain.py, written with the second held-out set
(``brain_paraphrases_new``) and before the second round of tuning. Unlike the held-out sets, these may be looked at
and tuned on; they exist because the first dev half had become too easy to tell changes apart.

Same conventions as ``brain_paraphrases``: ASR lines are lower case, no punctuation, numbers in words, with realistic
recognition mistakes.
"""
from __future__ import annotations

ASR, CLEAN = True, False

DEV2_PARAPHRASES: dict[str, list[tuple[str, bool]]] = {
    "kb_demo_hours": [
        ("Until what time are you open on Thursdays?", CLEAN),
        ("what time do you guys start seeing patients", ASR),
        ("are you open during lunch", ASR),
    ],
    "kb_demo_weekend": [
        ("Do you have weekend appointments?", CLEAN),
        ("can i come in on saturday for a checkup", ASR),
        ("is the office closed on sunday's", ASR),
    ],
    "kb_demo_holidays": [
        ("Is the clinic closed over the holidays?", CLEAN),
        ("are you open on christmas day", ASR),
        ("are you open on the fourth", ASR),
    ],
    "kb_demo_location": [
        ("What's the address of the dental office?", CLEAN),
        ("how do i get to your clinic", ASR),
        ("wears the office", ASR),
    ],
    "kb_demo_parking": [
        ("Do you have free parking?", CLEAN),
        ("is there a place to park my car", ASR),
        ("is there parking behind the built in", ASR),
    ],
    "kb_demo_transit": [
        ("Is there public transportation close to the clinic?", CLEAN),
        ("what's the nearest bus stop", ASR),
        ("how do i get there on the sub way", ASR),
    ],
    "kb_demo_access": [
        ("Can someone in a wheelchair get into your office?", CLEAN),
        ("is there a lift in the building", ASR),
        ("do you have a ramp", ASR),
    ],
    "kb_demo_new_patients": [
        ("Can I sign up as a new patient?", CLEAN),
        ("are you guys accepting new patients right now", ASR),
        ("do you have room for new patients", ASR),
    ],
    "kb_demo_first_visit": [
        ("What should I expect at my first appointment, do I need anything?", CLEAN),
        ("do i need to bring my id", ASR),
        ("what do i bring to my first appointment", ASR),
    ],
    "kb_demo_price_cleaning": [
        ("How much for a dental exam and cleaning?", CLEAN),
        ("what's the cost of a clean in", ASR),
        ("how much does a check of cost", ASR),
    ],
    "kb_demo_price_whitening": [
        ("What's the price of in-office whitening?", CLEAN),
        ("how much is whitening", ASR),
        ("how much is a whitening kid", ASR),
    ],
    "kb_demo_price_filling": [
        ("What's the cost of a tooth-colored filling?", CLEAN),
        ("how much to fill a tooth", ASR),
        ("what do fillings run", ASR),
    ],
    "kb_demo_price_crown": [
        ("How much would I pay for a dental crown?", CLEAN),
        ("how much is a crown", ASR),
        ("what does a tooth crown cause", ASR),
    ],
    "kb_demo_price_root_canal": [
        ("What do you charge for a root canal?", CLEAN),
        ("how much is a root canal treatment", ASR),
        ("how much are route canals", ASR),
    ],
    "kb_demo_price_implant": [
        ("How much is an implant with the crown?", CLEAN),
        ("what's the cost of implants", ASR),
        ("how much do implant school cost", ASR),
    ],
    "kb_demo_price_aligners": [
        ("What's the cost of Invisalign treatment?", CLEAN),
        ("how much are clear braces", ASR),
        ("how much do aligned hers cost", ASR),
    ],
    "kb_demo_consultation": [
        ("Do you do free consultations?", CLEAN),
        ("is the first consultation free", ASR),
        ("do i pay for the consultation", ASR),
    ],
    "kb_demo_aligner_delivery": [
        ("How many weeks until my aligners are ready?", CLEAN),
        ("when will my aligners be here", ASR),
        ("can you send my trays to my house", ASR),
    ],
    "kb_demo_aligner_lost": [
        ("My aligner tray cracked, can I get a replacement?", CLEAN),
        ("i lost my tray", ASR),
        ("how much is a new aligned her tray", ASR),
    ],
    "kb_demo_insurance": [
        ("Do you accept Aetna?", CLEAN),
        ("do you take my insurance", ASR),
        ("are you in network with delta", ASR),
    ],
    "kb_demo_no_insurance": [
        ("What are my options without dental insurance?", CLEAN),
        ("i don't have no insurance", ASR),
        ("do you have a membership plan", ASR),
    ],
    "kb_demo_payment": [
        ("What kind of payment do you accept?", CLEAN),
        ("do you take visa", ASR),
        ("can i pay with my credit card", ASR),
    ],
    "kb_demo_financing": [
        ("Do you offer monthly payment plans?", CLEAN),
        ("can i finance my treatment", ASR),
        ("can i pay in in stall mints", ASR),
    ],
    "kb_demo_billing": [
        ("There's a mistake on my bill.", CLEAN),
        ("i was double charged", ASR),
        ("who do i talk to about billing", ASR),
    ],
    "kb_demo_booking_how": [
        ("How can I schedule a visit?", CLEAN),
        ("can i book on your website", ASR),
        ("how do i make a appointment", ASR),
    ],
    "kb_demo_booking_wait": [
        ("What's the earliest you could see me?", CLEAN),
        ("how soon can i get in", ASR),
        ("do you have anything available this weak", ASR),
    ],
    "kb_demo_walk_in": [
        ("Can I show up without an appointment?", CLEAN),
        ("do you take walk ins", ASR),
        ("can i just drop in", ASR),
    ],
    "kb_demo_cancel_policy": [
        ("Is there a charge for late cancellations?", CLEAN),
        ("what's the cancellation fee", ASR),
        ("how much notice do i need to give", ASR),
    ],
    "kb_demo_late": [
        ("I'm running late, is that okay?", CLEAN),
        ("i'm going to be ten minutes late", ASR),
        ("what if i'm late", ASR),
    ],
    "kb_demo_emergency": [
        ("I have a dental emergency.", CLEAN),
        ("my tooth hurts so bad", ASR),
        ("i broke a tooth can you see me to day", ASR),
    ],
    "kb_demo_children": [
        ("Do you treat children?", CLEAN),
        ("do you see kids", ASR),
        ("how old do kids have to be", ASR),
    ],
    "kb_demo_dentists": [
        ("What are the names of the dentists?", CLEAN),
        ("who will i be seeing", ASR),
        ("who are the doctors their", ASR),
    ],
    "kb_demo_languages": [
        ("Does someone there speak Spanish?", CLEAN),
        ("do you speak spanish", ASR),
        ("what languages do you speak", ASR),
    ],
    "kb_demo_anxiety": [
        ("I'm afraid of dentists, can you help me relax?", CLEAN),
        ("do you offer sedation", ASR),
        ("i'm scared of the dentist", ASR),
    ],
    "kb_demo_wisdom": [
        ("Do you pull wisdom teeth?", CLEAN),
        ("can you take out a tooth", ASR),
        ("do you do wisdom tooth extraction", ASR),
    ],
    "kb_demo_xray": [
        ("Do I need x-rays at every visit?", CLEAN),
        ("are x rays safe", ASR),
        ("how much radiation is an x ray", ASR),
    ],
    "kb_demo_records": [
        ("Can you get my x-rays from my previous dentist?", CLEAN),
        ("how do i get my records", ASR),
        ("can you request my records", ASR),
    ],
    "kb_demo_contact": [
        ("Can I send you an email?", CLEAN),
        ("what's your email address", ASR),
        ("how can i contact you by e mail", ASR),
    ],
}

DEV2_UNKNOWN: list[tuple[str, bool]] = [
    ("Do you do cosmetic surgery?", CLEAN),
    ("Can I bring my cat?", CLEAN),
    ("Do you sell dental floss?", CLEAN),
    ("What's your favorite movie?", CLEAN),
    ("do you fix cars", ASR),
    ("how much is a pizza", ASR),
    ("do you do eye exams", ASR),
    ("are you open for lunch orders", ASR),
]


def dev2() -> list[tuple[str, str | None, bool]]:
    """Every dev2 phrase as (text, expected id or None for unknown, is_asr)."""
    rows = [(text, kid, is_asr) for kid, phrases in DEV2_PARAPHRASES.items() for text, is_asr in phrases]
    return rows + [(text, None, is_asr) for text, is_asr in DEV2_UNKNOWN]
