"""SIP message parsing on top of pyVoIP's ``SIPMessage``, hardened for what real PBXs (and attackers) send.

pyVoIP's parser splits headers on ``": "`` only, keeps one value per header, ignores compact forms and case,
assumes ``sip:`` URIs and crashes on bodies containing a blank line or SDP it does not know. We keep its data
model (``headers`` dict, SDP ``body`` dict) so its SDP parsing is reused, and replace the fragile parts. Every
failure becomes :class:`SipParseError` carrying whatever headers were read, so the listener can answer 400.
"""
from __future__ import annotations

import re
from typing import Any

from voice.sip.pyvoip import SIPMessage, SIPMessageType, SIPParseError, SIPStatus

MAX_MESSAGE_BYTES = 65535
REQUIRED_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")

_COMPACT = {
    "v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
    "c": "Content-Type", "k": "Supported", "e": "Content-Encoding", "o": "Event", "r": "Refer-To",
    "b": "Referred-By", "s": "Subject", "u": "Allow-Events",
}
_SPECIAL = {
    "call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate", "mime-version": "MIME-Version",
    "rack": "RAck", "rseq": "RSeq",
}
_MULTI_VALUE = {"Via", "Record-Route", "Route", "Contact", "Allow", "Supported"}
_URI_RE = re.compile(r"^\s*(?:\"(?P<q>(?:[^\"\\]|\\.)*)\"|(?P<d>[^<\"]*?))\s*<(?P<uri>[^>]*)>(?P<params>.*)$")
_USER_HOST_RE = re.compile(r"^(?:(?P<scheme>sips?|tel):)?(?:(?P<user>[^@;?]*)@)?(?P<host>[^;?>]*)")
_VIA_RE = re.compile(r"^\s*SIP\s*/\s*2\.0\s*/\s*(?P<transport>[A-Za-z]+)\s+(?P<host>\[[^\]]+\]|[^\s:;]+)"
                     r"(?::(?P<port>\d+))?\s*(?P<params>(?:;.*)?)$")


class SipParseError(SIPParseError, ValueError):
    """A datagram that is not a valid SIP message; ``partial`` holds the headers read so far, if any."""

    def __init__(self, reason: str, partial: "SipMessage | None" = None):
        super().__init__(reason)
        self.reason = reason
        self.partial = partial


def canonical_name(name: str) -> str:
    """The canonical spelling of a header name (compact forms expanded, case normalised)."""
    low = name.strip().lower()
    if low in _COMPACT:
        return _COMPACT[low]
    return _SPECIAL.get(low) or "-".join(part.capitalize() for part in low.split("-"))


def split_commas(value: str) -> list[str]:
    """Split a header value on commas that are outside quotes and angle brackets."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def parse_params(text: str) -> dict[str, str | None]:
    """``;a=1;b`` → ``{"a": "1", "b": None}`` (names lower-cased)."""
    params: dict[str, str | None] = {}
    for item in text.split(";"):
        if item.strip():
            name, eq, val = item.partition("=")
            params[name.strip().lower()] = val.strip().strip('"') if eq else None
    return params


def parse_name_addr(value: str) -> dict[str, Any]:
    """Parse a From/To/Contact/Refer-To value into pyVoIP's dict shape plus ``uri`` and ``params``."""
    match = _URI_RE.match(value)
    if match:
        display = match.group("q") if match.group("q") is not None else (match.group("d") or "").strip()
        uri, params = match.group("uri").strip(), parse_params(match.group("params"))
        raw = value[: match.end("uri") + 1].strip()
    else:  # addr-spec without brackets: parameters belong to the header, not the URI
        uri, _, rest = value.strip().partition(";")
        display, params, raw = "", parse_params(rest), uri
    parts = _USER_HOST_RE.match(uri)
    if not parts or not parts.group("host"):
        raise SipParseError(f"unreadable address {value!r}")
    host, user = parts.group("host"), parts.group("user")
    if parts.group("scheme") == "tel":  # tel:+15551234 has no host; the number is the whole URI
        user = host.split(";")[0]
    return {"raw": raw, "tag": params.get("tag") or "", "address": f"{user or ''}@{host}".lstrip("@"),
            "number": user, "caller": display, "host": host, "uri": uri, "params": params}


def uri_host_port(uri: str, default_port: int = 5060) -> tuple[str, int]:
    """Host and port of a SIP URI (``sip:user@host:port;params``), honouring ``maddr``-less plain form."""
    parts = _USER_HOST_RE.match(uri.strip().strip("<>"))
    if not parts or not parts.group("host"):
        raise SipParseError(f"unreadable URI {uri!r}")
    hostport = parts.group("host")
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else default_port
    host, _, port = hostport.partition(":")
    return host, int(port) if port.isdigit() else default_port


def parse_via(value: str) -> dict[str, Any]:
    """One Via value into pyVoIP's dict shape (``type``, ``address``, params) plus ``raw``."""
    match = _VIA_RE.match(value)
    if not match:
        raise SipParseError(f"unreadable Via {value!r}")
    via: dict[str, Any] = {"type": f"SIP/2.0/{match.group('transport').upper()}", "raw": value.strip(),
                           "address": (match.group("host").strip("[]"), match.group("port") or "5060")}
    via.update(parse_params(match.group("params")))
    return via


class SipMessage(SIPMessage):
    """A parsed SIP request or response; ``source`` is the (host, port) it came from."""

    def __init__(self, data: bytes, source: tuple[str, int] | None = None):
        self.source = source
        self.header_list: list[tuple[str, str]] = []
        self.method = ""
        self.uri = ""
        self.status_code = 0
        self.reason = ""
        self.body_raw = b""
        super().__init__(data)

    # -- accessors -------------------------------------------------------------------------------
    @property
    def is_request(self) -> bool:
        """True for requests, False for responses."""
        return self.type == SIPMessageType.MESSAGE

    def header(self, name: str) -> str | None:
        """The first raw value of a header, or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """Every raw value of a header, comma-separated values split for list headers."""
        name = canonical_name(name)
        out: list[str] = []
        for key, value in self.header_list:
            if key == name:
                out.extend(split_commas(value) if name in _MULTI_VALUE else [value])
        return out

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID", "")

    @property
    def cseq(self) -> tuple[int, str]:
        """(sequence number, method) of the CSeq header."""
        cseq = self.headers.get("CSeq") or {}
        return cseq.get("seq", 0), cseq.get("method", "")

    @property
    def branch(self) -> str:
        vias = self.headers.get("Via") or [{}]
        return vias[0].get("branch") or ""

    def has_required_headers(self) -> bool:
        """Whether every header needed to build a response is present."""
        return all(self.header(name) for name in REQUIRED_HEADERS)

    # -- parsing (overrides of pyVoIP) ------------------------------------------------------------
    def parse(self, data: bytes) -> None:
        """Parse the start line, headers and (SDP) body; raise :class:`SipParseError` on any defect."""
        if len(data) > MAX_MESSAGE_BYTES:
            raise SipParseError("message too large")
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipParseError("no blank line after the headers")
        try:
            lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
        except UnicodeDecodeError as exc:
            raise SipParseError("headers are not UTF-8") from exc
        self._parse_start_line(lines[0].strip())
        self._collect_headers(lines[1:])
        try:
            self._parse_known_headers()
            self.body_raw = self._cut_body(body)
            if self.body_raw and self.headers.get("Content-Type") == "application/sdp":
                self.parse_raw_body(self.body_raw, self.parse_body)
        except SipParseError as exc:
            exc.partial = self
            raise
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnboundLocalError) as exc:
            raise SipParseError(f"malformed message: {exc}", self) from exc

    def _parse_start_line(self, line: str) -> None:
        parts = line.split(" ", 2)
        self.heading = line.encode("utf-8")
        if parts[0] in self.SIPCompatibleVersions and len(parts) >= 2 and parts[1].isdigit():
            self.type = SIPMessageType.RESPONSE
            self.version, self.status_code = parts[0], int(parts[1])
            self.reason = parts[2] if len(parts) > 2 else ""
            self.status = _status_for(self.status_code)
        elif (len(parts) == 3 and parts[2] == "SIP/2.0" and re.fullmatch(r"[A-Za-z]+", parts[0])
              and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S+", parts[1])):
            self.type = SIPMessageType.MESSAGE
            self.method, self.uri, self.version = parts[0].upper(), parts[1], parts[2]
        else:
            raise SipParseError(f"not a SIP start line: {line[:80]!r}")

    def _collect_headers(self, lines: list[str]) -> None:
        for line in lines:
            if not line.strip():
                continue
            if line[0] in " \t" and self.header_list:  # folded continuation line
                name, value = self.header_list[-1]
                self.header_list[-1] = (name, f"{value} {line.strip()}")
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip() or " " in name.strip():
                raise SipParseError(f"malformed header line {line[:80]!r}", self)
            self.header_list.append((canonical_name(name), value.strip()))

    def _parse_known_headers(self) -> None:
        self.headers["Via"] = [parse_via(v) for v in self.header_values("Via")]
        for name in ("From", "To"):
            if self.header(name):
                self.headers[name] = parse_name_addr(self.header(name))
        cseq = self.header("CSeq")
        if cseq:
            seq, _, method = cseq.partition(" ")
            if not seq.isdigit() or not method.strip():
                raise SipParseError(f"malformed CSeq {cseq!r}")
            self.headers["CSeq"] = {"check": seq, "seq": int(seq), "method": method.strip().upper()}
        for name in ("Call-ID", "Contact", "Content-Encoding", "Event", "Subscription-State"):
            if self.header(name) is not None:
                self.headers[name] = self.header(name)
        if self.header("Content-Type") is not None:  # pyVoIP compares the bare media type
            self.headers["Content-Type"] = self.header("Content-Type").split(";")[0].strip().lower()
        length = self.header("Content-Length")
        if length is not None:
            if not length.isdigit():
                raise SipParseError(f"malformed Content-Length {length!r}")
            self.headers["Content-Length"] = int(length)

    def _cut_body(self, body: bytes) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            return body
        if length > len(body):
            raise SipParseError("body shorter than Content-Length")
        return body[:length]

    @staticmethod
    def parse_raw_body(body: bytes, handle: Any) -> None:
        """SDP lines (``x=value``), any line ending; lines that are not ``x=`` are ignored."""
        for line in body.decode("utf-8").splitlines():
            key, eq, value = line.partition("=")
            if eq and len(key) == 1:
                handle(key, value.strip())

    def parse_body(self, header: str, data: str) -> None:
        """pyVoIP's SDP parsing, tolerant of unknown transport profiles and attributes for unknown formats."""
        if "Content-Encoding" in self.headers:
            raise SipParseError("encoded bodies are not supported")
        if header == "m":
            self._parse_media_line(data)
        elif header == "a" and data.split(":", 1)[0] in ("rtpmap", "fmtp"):
            fmt = data.split(":", 1)[1].split(" ", 1)[0] if ":" in data else ""
            if any(fmt in m["methods"] for m in self.body.get("m", [])):
                super().parse_body(header, data)
        else:
            super().parse_body(header, data)

    def _parse_media_line(self, data: str) -> None:
        fields = data.split()
        if len(fields) < 4:
            raise SipParseError(f"malformed SDP m= line {data!r}")
        port, _, count = fields[1].partition("/")
        media = {"type": fields[0], "port": int(port), "port_count": int(count or 1), "protocol": fields[2],
                 "methods": fields[3:], "attributes": {fmt: {} for fmt in fields[3:]}}
        self.body.setdefault("m", []).append(media)


def _status_for(code: int) -> SIPStatus:
    """pyVoIP's status enum for a code; codes it does not know map to their class (x00)."""
    try:
        return SIPStatus(code)
    except ValueError:
        try:
            return SIPStatus(code // 100 * 100)
        except ValueError:
            return SIPStatus(500)


def parse_message(data: bytes, source: tuple[str, int] | None = None) -> SipMessage:
    """Parse one datagram; raises :class:`SipParseError` (with ``partial`` when headers were readable)."""
    return SipMessage(data, source)
