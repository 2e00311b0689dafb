"""The SIP voice agent: telephony (sip), real-time media (media), speech engines (asr, tts, vad) and the call session."""
