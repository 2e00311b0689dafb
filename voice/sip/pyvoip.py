"""The pieces of pyVoIP 1.6 we build on, imported in the one order that works.

``pyVoIP.SIP`` cannot be imported first: it imports ``pyVoIP.VoIP``, which imports ``pyVoIP.SIP`` back while
it is half-initialised. Importing ``pyVoIP.VoIP`` first lets both modules finish.
"""
import pyVoIP.VoIP  # noqa: F401  (must come before pyVoIP.SIP, see above)
from pyVoIP.SIP import SIPClient, SIPMessage, SIPMessageType, SIPParseError, SIPStatus

__all__ = ["SIPClient", "SIPMessage", "SIPMessageType", "SIPParseError", "SIPStatus"]
