"""Real-time media of a call: G.711, RTP, jitter buffer, DTMF, resampling, paced sending, recording.

Audio is 16-bit linear PCM everywhere (8 kHz on the wire side). ``session.RtpSession`` ties the parts together.
"""
