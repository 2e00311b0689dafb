"""Dialog state (RFC 3261 §12) and in-dialog requests.

This is where stock pyVoIP goes wrong for outbound calls: its ``gen_ack`` invents a new To-tag and sends the
ACK to the registrar's address instead of the dialog's remote target, so the PBX never sees its 200 OK
acknowledged and tears the call down after ~30 s. Every in-dialog request here (ACK, BYE, REFER, NOTIFY
answers) carries the dialog's Call-ID, our tag in From (or To) and the peer's tag, follows the route set and
goes to the remote target.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from voice.sip import builder
from voice.sip.message import SipMessage, parse_name_addr, uri_host_port


def _without_tag(name_addr: str) -> str:
    parsed = parse_name_addr(name_addr)
    raw = parsed["raw"]
    return raw if raw.rstrip().endswith(">") else builder.bracket(parsed["uri"])


@dataclass
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    """Our name-addr (From of our requests), without tag."""
    remote_uri: str
    """The peer's name-addr, without tag."""
    remote_target: str
    """The peer's Contact URI: Request-URI of in-dialog requests."""
    contact: str
    """Our Contact header value."""
    route_set: list[str] = field(default_factory=list)
    local_seq: int = field(default_factory=lambda: random.randint(1, 10000))
    remote_seq: int | None = None
    peer: tuple[str, int] | None = None
    """Where the dialog-creating message came from (fallback destination)."""

    @classmethod
    def from_invite(cls, invite: SipMessage, local_tag: str, contact: str) -> "Dialog":
        """The UAS side of a dialog created by an INVITE we received."""
        remote_target = parse_name_addr(invite.header("Contact"))["uri"] if invite.header("Contact") else ""
        return cls(call_id=invite.call_id, local_tag=local_tag, remote_tag=invite.headers["From"]["tag"],
                   local_uri=_without_tag(invite.header("To")), remote_uri=_without_tag(invite.header("From")),
                   remote_target=remote_target or invite.headers["From"]["uri"], contact=contact,
                   route_set=invite.header_values("Record-Route"), remote_seq=invite.cseq[0], peer=invite.source)

    def confirm(self, response: SipMessage) -> None:
        """The UAC side: take the peer's tag, target and route set from a 18x/2xx to our INVITE."""
        self.remote_tag = response.headers["To"]["tag"] or self.remote_tag
        if response.header("Contact"):
            self.remote_target = parse_name_addr(response.header("Contact"))["uri"]
        self.route_set = list(reversed(response.header_values("Record-Route")))
        self.peer = response.source or self.peer

    def next_seq(self) -> int:
        """The CSeq number of our next in-dialog request."""
        self.local_seq += 1
        return self.local_seq

    def destination(self) -> tuple[str, int]:
        """Where in-dialog requests go: the first route if any, else the remote target."""
        if self.route_set:
            return uri_host_port(parse_name_addr(self.route_set[0])["uri"])
        if self.remote_target:
            return uri_host_port(self.remote_target)
        assert self.peer is not None
        return self.peer

    def request(self, method: str, sent_by: str, *, seq: int | None = None, branch: str | None = None,
                headers: builder.Headers = (), body: bytes = b"", content_type: str | None = None,
                user_agent: str = "Callbox") -> tuple[bytes, str]:
        """An in-dialog request and its branch; ACK and CANCEL pass the INVITE's ``seq``."""
        branch = branch or builder.new_branch()
        to = f"{self.remote_uri};tag={self.remote_tag}" if self.remote_tag else self.remote_uri
        data = builder.build_request(
            method, self.remote_target, via=sent_by, branch=branch, from_=f"{self.local_uri};tag={self.local_tag}",
            to=to, call_id=self.call_id, cseq=self.next_seq() if seq is None else seq,
            contact=self.contact if method not in ("ACK", "CANCEL", "BYE") else None, routes=self.route_set,
            headers=headers, body=body, content_type=content_type, user_agent=user_agent)
        return data, branch

    def matches(self, msg: SipMessage) -> bool:
        """Whether an incoming request belongs to this dialog (Call-ID and both tags)."""
        if msg.call_id != self.call_id:
            return False
        to_tag = msg.headers.get("To", {}).get("tag", "")
        from_tag = msg.headers.get("From", {}).get("tag", "")
        return to_tag == self.local_tag and (not self.remote_tag or from_tag == self.remote_tag)
