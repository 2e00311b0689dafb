"""Shared data of the call records API tests: seven records from another system and one live call."""
from __future__ import annotations

from dataclasses import dataclass

from appliance import calls
from data.ai import Assistant
from data.db import database
from tests.conftest import new_account

API = "/api/v1/calls"
DAY = "2026-10-0{}T{:02d}:00:00Z"


@dataclass(frozen=True)
class Row:
    label: str
    direction: str
    status: str
    from_number: str
    to_number: str
    handled_by: str | None
    outcome: str | None
    language: str
    assistant: str | None
    agent: str | None
    campaign: str | None
    day: int
    hour: int
    duration: int
    confidence: float


DATA = [
    Row("a", "inbound", "completed", "+12125550101", "+12125550142", "AI", "INFO", "en", "A1", None, None, 1, 9, 120,
        90),
    Row("b", "inbound", "completed", "(212) 555-0102", "1002", "HUMAN", "TRANSFER", "en", "A1", "agt_1", None, 1, 11,
        300, 40),
    Row("c", "outbound", "completed", "+12125550142", "212.555.0199", "HYBRID", "BOOKING", "es", "A2", "agt_2", "cmp_1",
        2, 10, 240, 75),
    Row("d", "outbound", "no_answer", "+12125550142", "+12125550198", None, "MISSED", "es", None, "agt_2", "cmp_1", 2,
        15, 0, 10),
    Row("e", "inbound", "busy", "+44 20 7183 8750", "+12125550142", None, "MISSED", "de", "A2", None, None, 3, 8, 0,
        20),
    Row("f", "inbound", "failed", "1003", "1004", "AI", "OTHER", "de", None, None, None, 4, 23, 0, 30),
    Row("g", "inbound", "answered", "+12125550101", "+12125550142", "AI", "VOICEMAIL", "en", "A1", None, "cmp_2", 5,
        12, 45, 60),
]


def body_for(row: Row, assistants: dict) -> dict:
    started = DAY.format(row.day, row.hour)
    body = {"direction": row.direction, "status": row.status, "fromNumber": row.from_number,
            "toNumber": row.to_number, "startedAt": started, "language": row.language,
            "handledBy": row.handled_by, "outcome": row.outcome, "aiConfidence": row.confidence,
            "assistantId": assistants.get(row.assistant), "agentId": row.agent, "campaignId": row.campaign,
            "externalId": f"pbx-{row.label}"}
    if row.duration:
        body["answeredAt"] = started.replace(":00Z", ":05Z")
        body["endedAt"] = f"2026-10-0{row.day}T{row.hour:02d}:{row.duration // 60:02d}:{5 + row.duration % 60:02d}Z"
    else:
        body["endedAt"] = started.replace(":00Z", ":30Z")
    return body


@dataclass
class World:
    client: object
    manager: object
    viewer: object
    agent: object
    ids: dict
    assistants: dict

    def get(self, query: str = "", account=None):
        resp = self.client.get(f"{API}{query}", headers=(account or self.viewer).headers)
        assert resp.status_code == 200, resp.json
        return resp.json

    def labels(self, query: str) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[c["id"]] for c in self.get(query + ("&" if "?" in query else "?") + "limit=100")["data"]]




def build_world(app, client) -> World:
    """An organization with two assistants, the seven records posted by a MANAGER, and call h in progress."""
    owner = new_account(app)
    manager = new_account(app, "MANAGER", owner.org_id)
    with database.connection_context():
        assistants = {name: Assistant.create(organization=owner.org_id, name=name).id for name in ("A1", "A2")}
    ids = {}
    for row in DATA:
        resp = client.post(API, headers=manager.headers, json=body_for(row, assistants))
        assert resp.status_code == 201, resp.json
        ids[row.label] = resp.json["data"]["id"]
    with database.connection_context():  # h: a call in progress, as the voice agent opens it
        ids["h"] = calls.start_call(owner.org_id, direction="inbound", from_number="+12125550177",
                                    to_number="+12125550142")
        calls.update_live(ids["h"], current_transcript="hello?", ai_confidence=0.5)
    return World(client, manager, new_account(app, "VIEWER", owner.org_id), new_account(app, "AGENT", owner.org_id),
                 ids, assistants)
