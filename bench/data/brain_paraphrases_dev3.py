"""A third tuning (dev) paraphrase set for bench/brain.py: longer, more roundabout turns, the way people really talk
on the phone, written after the first embedding results and before any tuning on it. May be looked at and tuned on.

Same conventions as ``brain_paraphrases``: ASR lines are lower case, no punctuation, numbers in words, with realistic
recognition mistakes.
"""
from __future__ import annotations

ASR, CLEAN = True, False

DEV3_PARAPHRASES: dict[str, list[tuple[str, bool]]] = {
    "kb_demo_hours": [
        ("I was wondering until when someone is there at the office in the evening", CLEAN),
        ("Yeah hi, quick one, what's your schedule during the week?", CLEAN),
        ("what time you guys close to night", ASR),
        ("are you open on monday mornings", ASR),
    ],
    "kb_demo_weekend": [
        ("I work all week, is there any chance to come on a Saturday?", CLEAN),
        ("Is anybody there on Sunday if I need something?", CLEAN),
        ("do you guys work saturdays", ASR),
        ("what are your saturday ours", ASR),
    ],
    "kb_demo_holidays": [
        ("Are you going to be open over Christmas and New Year?", CLEAN),
        ("Do you guys take days off for the bank holidays?", CLEAN),
        ("are you close on labor day", ASR),
        ("is the clinic open on public holy days", ASR),
    ],
    "kb_demo_location": [
        ("I've never been there, what's the address again?", CLEAN),
        ("Are you the office near the library?", CLEAN),
        ("what street is the clinic on", ASR),
        ("can you give me the address for the g p s", ASR),
    ],
    "kb_demo_parking": [
        ("Will I be able to find a spot for my car near you?", CLEAN),
        ("Is the parking behind the building for patients?", CLEAN),
        ("do i need to pay for the parking lot", ASR),
        ("where do i leave my car", ASR),
    ],
    "kb_demo_transit": [
        ("I don't have a car, how would I get there by public transit?", CLEAN),
        ("Which bus line stops close to your office?", CLEAN),
        ("is there a train stations near you", ASR),
        ("can i take the metro to your office", ASR),
    ],
    "kb_demo_access": [
        ("My father can't do stairs, can he get into your building?", CLEAN),
        ("Is there an accessible bathroom at the clinic?", CLEAN),
        ("is your building accessible for disabled people", ASR),
        ("can you get in with a wheel chair", ASR),
    ],
    "kb_demo_new_patients": [
        ("We just moved to the area, are you open to new families?", CLEAN),
        ("I'd like to switch to your practice, do you take new people?", CLEAN),
        ("are you taking any new patients", ASR),
        ("can i become a patient their", ASR),
    ],
    "kb_demo_first_visit": [
        ("This will be my first time at your office, is there anything I should bring?", CLEAN),
        ("How early do you want new patients to arrive?", CLEAN),
        ("do i need to bring my insurance card and id", ASR),
        ("what do i need for my first a point men", ASR),
    ],
    "kb_demo_price_cleaning": [
        ("Roughly what would I pay for a routine check-up and cleaning?", CLEAN),
        ("What does a regular dental cleaning run these days?", CLEAN),
        ("how much is a dental exam", ASR),
        ("what's the price of a teeth clean", ASR),
    ],
    "kb_demo_price_whitening": [
        ("I want whiter teeth for my wedding, what does whitening cost?", CLEAN),
        ("Is the home whitening kit cheaper than doing it in the office?", CLEAN),
        ("how much is teeth whitening", ASR),
        ("what do you charge to whiten teeth", ASR),
    ],
    "kb_demo_price_filling": [
        ("I think I need a filling, roughly what will that cost me?", CLEAN),
        ("Are white fillings expensive?", CLEAN),
        ("how much to get a cavity filled", ASR),
        ("what's the cost of a tooth filling", ASR),
    ],
    "kb_demo_price_crown": [
        ("My dentist says I need a crown, what do you charge?", CLEAN),
        ("Does the price of a crown include the temporary one?", CLEAN),
        ("how much for a porcelain crown", ASR),
        ("what does a crown costs", ASR),
    ],
    "kb_demo_price_root_canal": [
        ("I was told I need root canal therapy, what would that cost?", CLEAN),
        ("Is a root canal very expensive at your clinic?", CLEAN),
        ("how much is root canal", ASR),
        ("what's the price for a root can now", ASR),
    ],
    "kb_demo_price_implant": [
        ("I lost a tooth and I'm thinking about an implant, what's the price?", CLEAN),
        ("Does the implant price include the crown on top?", CLEAN),
        ("how much do dental implants cost", ASR),
        ("what's the price of a implant", ASR),
    ],
    "kb_demo_price_aligners": [
        ("I want to straighten my teeth with clear aligners, how much is that?", CLEAN),
        ("What would Invisalign cost me in total?", CLEAN),
        ("how much do in visa line cost", ASR),
        ("what's the price for clear aligners", ASR),
    ],
    "kb_demo_consultation": [
        ("Do I have to pay to come in and discuss aligners?", CLEAN),
        ("Is there a fee for the implant consultation?", CLEAN),
        ("is a consultation free", ASR),
        ("do you charge for the first consult", ASR),
    ],
    "kb_demo_aligner_delivery": [
        ("I had my scan done, how long before the aligners come?", CLEAN),
        ("Could you ship the aligners to my home instead of picking them up?", CLEAN),
        ("when are my aligners going to arrive", ASR),
        ("how long does it take to get my in visa line", ASR),
    ],
    "kb_demo_aligner_lost": [
        ("I left my aligner on a restaurant tray and it's gone, what now?", CLEAN),
        ("What does a replacement aligner cost?", CLEAN),
        ("i broke my aligner", ASR),
        ("i lost one of my trays what do i do", ASR),
    ],
    "kb_demo_insurance": [
        ("Is my MetLife dental plan accepted at your office?", CLEAN),
        ("Do you file the insurance claim for me?", CLEAN),
        ("do you take delta dental", ASR),
        ("what insurance do you except", ASR),
    ],
    "kb_demo_no_insurance": [
        ("I lost my job and my insurance, is there something for people like me?", CLEAN),
        ("How much is the monthly membership plan?", CLEAN),
        ("do you have a plan for people with out insurance", ASR),
        ("i don't have dental insurance", ASR),
    ],
    "kb_demo_payment": [
        ("Can I pay with my FSA card?", CLEAN),
        ("Do you accept cash or only cards?", CLEAN),
        ("do you take debit cards", ASR),
        ("can i pay with apple pay", ASR),
    ],
    "kb_demo_financing": [
        ("The implant is a lot of money at once, can I pay it off over time?", CLEAN),
        ("Do you offer interest-free financing?", CLEAN),
        ("do you do payment plans", ASR),
        ("can i pay monthly", ASR),
    ],
    "kb_demo_billing": [
        ("My statement shows a charge I don't understand.", CLEAN),
        ("I think you charged me twice for the same cleaning.", CLEAN),
        ("i have a question about a bill", ASR),
        ("who handles billing questions", ASR),
    ],
    "kb_demo_booking_how": [
        ("What are the ways I can book an appointment with you?", CLEAN),
        ("Can I book an appointment through your website?", CLEAN),
        ("how do i set up an appointment", ASR),
        ("can i book online", ASR),
    ],
    "kb_demo_booking_wait": [
        ("How far out are you booking appointments right now?", CLEAN),
        ("Do you have any same-day appointments?", CLEAN),
        ("how long is the wait for an appointment", ASR),
        ("when is your next opening", ASR),
    ],
    "kb_demo_walk_in": [
        ("Can I just stop by the office without booking first?", CLEAN),
        ("Do you accept patients without an appointment?", CLEAN),
        ("can i walk in", ASR),
        ("do you take walk in patients", ASR),
    ],
    "kb_demo_cancel_policy": [
        ("If I have to cancel the day before, will I be charged?", CLEAN),
        ("How much notice do you need if I want to reschedule?", CLEAN),
        ("is there a charge for canceling", ASR),
        ("what's your cancelation policy", ASR),
    ],
    "kb_demo_late": [
        ("The traffic is terrible, I'll be there about fifteen minutes after my time.", CLEAN),
        ("What happens if I arrive late to my appointment?", CLEAN),
        ("i'm running a few minutes late", ASR),
        ("i'm going to be late", ASR),
    ],
    "kb_demo_emergency": [
        ("My son fell and knocked out his front tooth, what do we do?", CLEAN),
        ("I'm in a lot of pain, can someone see me today?", CLEAN),
        ("i have a tooth ache and my face is swollen", ASR),
        ("who do i call after hours for an emergency", ASR),
    ],
    "kb_demo_children": [
        ("At what age should I bring my daughter for her first visit?", CLEAN),
        ("Do you treat toddlers?", CLEAN),
        ("do you see children", ASR),
        ("can i bring my kids", ASR),
    ],
    "kb_demo_dentists": [
        ("Which doctors work at the clinic?", CLEAN),
        ("Who is your implant specialist?", CLEAN),
        ("who are your dentists", ASR),
        ("is doctor lopez a good dentist", ASR),
    ],
    "kb_demo_languages": [
        ("Is there anyone who speaks Mandarin on your staff?", CLEAN),
        ("Do your dentists speak any other languages?", CLEAN),
        ("does any body speak spanish", ASR),
        ("do you speak chinese", ASR),
    ],
    "kb_demo_anxiety": [
        ("I'm really nervous about dental work, do you offer anything to calm me down?", CLEAN),
        ("Can I get laughing gas for my filling?", CLEAN),
        ("i'm scared of the dentist can you help", ASR),
        ("do you offer sedation for nervous patients", ASR),
    ],
    "kb_demo_wisdom": [
        ("My wisdom teeth are coming in sideways, do you remove them?", CLEAN),
        ("Do you do extractions or do I need to see a surgeon?", CLEAN),
        ("do you pull wisdom teeth", ASR),
        ("can you take out my wisdom tooth", ASR),
    ],
    "kb_demo_xray": [
        ("I'm worried about the radiation from dental x-rays.", CLEAN),
        ("Do you use digital x-rays?", CLEAN),
        ("are x rays safe", ASR),
        ("do i really need x rays", ASR),
    ],
    "kb_demo_records": [
        ("How do I get my old dentist to send you my file?", CLEAN),
        ("Can you get my dental history from my previous clinic?", CLEAN),
        ("how do i transfer my dental records", ASR),
        ("can you request my x rays from my old dentist", ASR),
    ],
    "kb_demo_contact": [
        ("Is there an email I can write to with questions?", CLEAN),
        ("How quickly do you answer emails?", CLEAN),
        ("what is your email", ASR),
        ("can i send you an email", ASR),
    ],
}

DEV3_UNKNOWN: list[tuple[str, bool]] = [
    ("Do you do braces for dogs?", CLEAN),
    ("Can you recommend a good pediatrician?", CLEAN),
    ("Do you offer teeth cleaning for cats?", CLEAN),
    ("Is there a coffee shop near you?", CLEAN),
    ("do you sell electric toothbrushes", ASR),
    ("can i pay my parking ticket here", ASR),
    ("do you do facial fillers", ASR),
    ("what's the score of the game", ASR),
]


def dev3() -> list[tuple[str, str | None, bool]]:
    """Every dev3 phrase as (text, expected id or None for unknown, is_asr)."""
    rows = [(text, kid, is_asr) for kid, phrases in DEV3_PARAPHRASES.items() for text, is_asr in phrases]
    return rows + [(text, None, is_asr) for text, is_asr in DEV3_UNKNOWN]
