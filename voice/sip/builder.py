"""Building SIP requests and responses as bytes.

Responses copy Via/From/To/Call-ID/CSeq verbatim from the request (pyVoIP rebuilds them and loses parameters)
and add ``received``/``rport`` (RFC 3581) so replies reach peers behind NAT.
"""
from __future__ import annotations

import re
import secrets
from typing import Iterable

from voice.sip.pyvoip import SIPStatus

from voice.sip.message import SipMessage

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY"
SUPPORTED = "replaces, norefersub"

Headers = Iterable[tuple[str, str]]


def new_tag() -> str:
    """A random From/To tag (pyVoIP keeps every tag it ever made in a list; we do not)."""
    return secrets.token_hex(5)


def new_branch() -> str:
    """A fresh RFC 3261 branch (magic cookie prefix)."""
    return "z9hG4bK" + secrets.token_hex(10)


def new_call_id(host: str) -> str:
    """A globally unique Call-ID (pyVoIP derives them from a counter, so they repeat after a restart)."""
    return f"{secrets.token_hex(12)}@{host}"


def reason_phrase(code: int) -> str:
    """The standard reason phrase of a status code."""
    try:
        return SIPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _response_vias(req: SipMessage) -> list[str]:
    vias = [v["raw"] for v in req.headers.get("Via", [])] or req.header_values("Via")
    if req.source and req.headers.get("Via"):
        top = req.headers["Via"][0]
        raw = vias[0]
        if "rport" in top and top["rport"] is None:
            raw = re.sub(r";\s*rport(?=\s*;|\s*$)", f";rport={req.source[1]}", raw, count=1)
        if top["address"][0] != req.source[0] and "received" not in top:
            raw += f";received={req.source[0]}"
        vias[0] = raw
    return vias


def build_response(req: SipMessage, code: int, reason: str | None = None, *, to_tag: str | None = None,
                   headers: Headers = (), body: bytes = b"", content_type: str | None = None,
                   server: str = "Callbox") -> bytes:
    """A response to ``req``; ``to_tag`` is added to To when the request had none."""
    to = req.header("To") or ""
    if to_tag and code > 100 and not re.search(r";\s*tag=", to, re.IGNORECASE):
        to = f"{to};tag={to_tag}"
    lines = [f"SIP/2.0 {code} {reason or reason_phrase(code)}"]
    lines += [f"Via: {v}" for v in _response_vias(req)]
    lines += [f"From: {req.header('From') or ''}", f"To: {to}", f"Call-ID: {req.header('Call-ID') or ''}",
              f"CSeq: {req.header('CSeq') or ''}"]
    if code in (180, 183) or 200 <= code < 300:
        lines += [f"Record-Route: {rr}" for rr in req.header_values("Record-Route")]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Server: {server}")
    return _finish(lines, body, content_type)


def build_request(method: str, uri: str, *, via: str, branch: str, from_: str, to: str, call_id: str,
                  cseq: int, cseq_method: str | None = None, contact: str | None = None, routes: Iterable[str] = (),
                  headers: Headers = (), body: bytes = b"", content_type: str | None = None,
                  user_agent: str = "Callbox") -> bytes:
    """A request; ``via`` is our sent-by ``host:port``."""
    lines = [f"{method} {uri} SIP/2.0", f"Via: SIP/2.0/UDP {via};branch={branch};rport", "Max-Forwards: 70"]
    lines += [f"Route: {r}" for r in routes]
    lines += [f"From: {from_}", f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq} {cseq_method or method}"]
    if contact:
        lines.append(f"Contact: {contact}")
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"User-Agent: {user_agent}")
    return _finish(lines, body, content_type)


def _finish(lines: list[str], body: bytes, content_type: str | None) -> bytes:
    if body:
        lines.append(f"Content-Type: {content_type or 'application/sdp'}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def bracket(uri: str) -> str:
    """``<uri>`` unless already bracketed."""
    uri = uri.strip()
    return uri if uri.startswith("<") else f"<{uri}>"
