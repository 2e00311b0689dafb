"""SDP offer/answer for one audio stream: G.711 (PCMU/PCMA) plus RFC 2833 telephone-event.

The SDP text is read by pyVoIP's parser (``SipMessage.body``); negotiation and the answer are ours, because
pyVoIP answers with every codec it was offered and the port of its own 8-bit RTP client.
"""
from __future__ import annotations

from dataclasses import dataclass

STATIC_PAYLOADS = {0: "PCMU", 8: "PCMA"}
CLOCK_RATE = 8000


class SdpError(ValueError):
    """An SDP body we cannot use."""


@dataclass(frozen=True)
class MediaOffer:
    host: str
    port: int
    protocol: str
    formats: tuple[tuple[int, str], ...]
    """(payload type, upper-case encoding name) in the offerer's order."""
    direction: str = "sendrecv"

    @property
    def dtmf_payload_type(self) -> int | None:
        """The offered telephone-event payload type, if any."""
        return next((pt for pt, name in self.formats if name == "TELEPHONE-EVENT"), None)


@dataclass(frozen=True)
class Negotiated:
    payload_type: int
    codec: str
    dtmf_payload_type: int | None
    remote: tuple[str, int]


def parse_offer(msg) -> MediaOffer:
    """The first audio stream of a parsed message's SDP body."""
    body = getattr(msg, "body", None) or {}
    audio = next((m for m in body.get("m", []) if m.get("type") == "audio"), None)
    if audio is None:
        raise SdpError("no audio stream in the SDP")
    connections = body.get("c") or []
    if not connections or not isinstance(connections, list):
        raise SdpError("no connection address in the SDP")
    formats = tuple((int(fmt), _encoding_name(audio, fmt)) for fmt in audio["methods"] if fmt.isdigit())
    direction = getattr((body.get("a") or {}).get("transmit_type"), "value", "sendrecv")
    return MediaOffer(connections[-1]["address"], int(audio["port"]), str(getattr(audio["protocol"], "value",
                      audio["protocol"])), formats, direction)


def _encoding_name(audio: dict, fmt: str) -> str:
    rtpmap = audio.get("attributes", {}).get(fmt, {}).get("rtpmap")
    if rtpmap:
        if str(rtpmap.get("frequency")) != str(CLOCK_RATE):
            return f"{rtpmap['name'].upper()}/{rtpmap.get('frequency')}"
        return rtpmap["name"].upper()
    return STATIC_PAYLOADS.get(int(fmt), f"PT{fmt}")


def negotiate(offer: MediaOffer, codecs: tuple[str, ...]) -> Negotiated | None:
    """The codec to use (first of the offer that we support) or None when nothing matches."""
    if offer.port == 0 or offer.protocol.upper() != "RTP/AVP":
        return None
    wanted = {c.upper() for c in codecs}
    for pt, name in offer.formats:
        if name in wanted:
            return Negotiated(pt, name, offer.dtmf_payload_type, (offer.host, offer.port))
    return None


def build_sdp(host: str, port: int, formats: list[tuple[int, str]], dtmf_payload_type: int | None,
              session_id: int, version: int = 1, direction: str = "sendrecv", name: str = "Callbox") -> bytes:
    """An SDP offer or answer for one audio stream."""
    family = "IP6" if ":" in host else "IP4"
    pts = [pt for pt, _ in formats] + ([dtmf_payload_type] if dtmf_payload_type is not None else [])
    lines = ["v=0", f"o={name} {session_id} {version} IN {family} {host}", f"s={name}",
             f"c=IN {family} {host}", "t=0 0", f"m=audio {port} RTP/AVP {' '.join(str(p) for p in pts)}"]
    lines += [f"a=rtpmap:{pt} {codec}/{CLOCK_RATE}" for pt, codec in formats]
    if dtmf_payload_type is not None:
        lines += [f"a=rtpmap:{dtmf_payload_type} telephone-event/{CLOCK_RATE}", f"a=fmtp:{dtmf_payload_type} 0-15"]
    lines += ["a=ptime:20", f"a={direction}"]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def offer_formats(codecs: tuple[str, ...]) -> list[tuple[int, str]]:
    """Our offer's static payload types for the configured codecs."""
    by_name = {name: pt for pt, name in STATIC_PAYLOADS.items()}
    return [(by_name[c.upper()], c.upper()) for c in codecs if c.upper() in by_name]
