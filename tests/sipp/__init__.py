"""SIPp scenarios (XML) and the helpers that run them against the SIP agent on loopback."""
