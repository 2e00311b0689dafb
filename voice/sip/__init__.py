"""SIP for the voice agent, on top of pyVoIP 1.6 with its gaps closed in our subclasses and handlers.

Public API: ``SipAgent`` (start/stop, register, place_call), ``Call`` and ``CallState``, ``SipSettings``,
``SipAccount``, ``RegistrationStatus``. Media (16-bit PCM over RTP) is ``voice.media``'s ``RtpSession``.
"""
from voice.sip.agent import SipAgent
from voice.sip.call import Call, CallState, Direction, EndReason
from voice.sip.outbound import CallLimitReached, SipCallError
from voice.sip.registration import Registration, RegistrationStatus
from voice.sip.settings import SipAccount, SipSettings, settings_from_config

__all__ = ["Call", "CallLimitReached", "CallState", "Direction", "EndReason", "Registration", "RegistrationStatus",
           "SipAccount", "SipAgent", "SipCallError", "SipSettings", "settings_from_config"]
