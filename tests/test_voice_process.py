"""The real ``callbox voice`` process: registers its numbers at Kamailio, beats, answers through the PBX, and
places the calls that ``POST /calls/dial`` asks for (queue ``voice``) to a SIPp phone, hung up by the API."""
from __future__ import annotations

import time

import pytest

from appliance import phone_numbers
from appliance.brain_demo import DEMO_NUMBER
from appliance.cli import main
from appliance.config import load_config
from appliance.datadir import open_database
from appliance.security import SecretBox
from data.ai import PhoneNumber
from data.calls import Call as CallRecord
from data.db import database
from data.models import Heartbeat, Organization
from tests.processes import start_callbox, stop, wait_until
from tests.sipp.harness import needs_sipp
from tests.sipp.kamailio import KAMAILIO, Kamailio
from tests.sipp.runner import free_udp_port
from tests.voice_caller import Caller
from tests.voice_env import events_of

pytestmark = [pytest.mark.slow, needs_sipp,
              pytest.mark.skipif(KAMAILIO is None, reason="Kamailio (Debian package kamailio) is not installed")]

SECOND_NUMBER = "+12125550143"
UAS_WAIT_BYE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas answers, then waits for the agent's BYE">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]uas[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:uas@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=uas 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
  ]]></send>
  <recv request="ACK"/>
  <recv request="BYE" timeout="30000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
  ]]></send>
</scenario>
"""


def _prepare(data, kamailio_port: int) -> None:
    """The demo number registers as 1001 at Kamailio and answers at any hour; a second number has no account."""
    config = load_config(data)
    open_database(config)
    box = SecretBox(config.secret_key())
    with database.connection_context():
        row = PhoneNumber.get(PhoneNumber.number == DEMO_NUMBER)
        phone_numbers.update(row, {"businessHours": {"monday": {"open": "09:00", "close": "17:00"}},
                                   "afterHoursAction": "assistant",
                                   "sip": {"server": "127.0.0.1", "port": kamailio_port, "username": "1001",
                                           "password": "s3cret", "transport": "udp"}}, box)
        phone_numbers.create(row.organization_id, {"number": SECOND_NUMBER, "assistantId": row.assistant_id}, box)
    database.close()


def _status(number: str) -> str:
    with database.connection_context():
        return PhoneNumber.get(PhoneNumber.number == number).registration_status


def _heartbeat():
    with database.connection_context():
        return Heartbeat.get_or_none(Heartbeat.component == "voice")


@pytest.fixture
def voice_process(tmp_path):
    data, log = tmp_path / "data", tmp_path / "voice.log"
    assert main(["init", "--data-dir", str(data), "--demo"]) == 0
    kamailio = Kamailio(tmp_path).start()
    _prepare(data, kamailio.port)
    sip_port = free_udp_port()
    env = {"CALLBOX_VOICE_SIP_HOST": "127.0.0.1", "CALLBOX_VOICE_RTP_PORT_MIN": "31000",
           "CALLBOX_VOICE_RTP_PORT_MAX": "31998", "CALLBOX_VOICE_AMD": "false", "CALLBOX_VOICE_RESYNC_SECONDS": "2",
           "CALLBOX_QUEUE_HEARTBEAT_SECONDS": "2"}
    proc = start_callbox(["voice", "--data-dir", str(data), "--sip-port", str(sip_port)], log, env)
    config = load_config(data)
    open_database(config)
    try:
        yield config, proc, kamailio, sip_port, log
    finally:
        status = stop(proc, timeout=30)
        kamailio.stop()
        database.close()
        text = log.read_text(errors="replace")
        assert status == 0, text[-3000:]
        assert "Traceback" not in text, text[-3000:]


def test_voice_process_registers_beats_and_answers_through_the_pbx(voice_process):
    config, proc, kamailio, sip_port, log = voice_process
    wait_until(lambda: _status(DEMO_NUMBER) == "registered" or proc.poll() is not None, 60,
               what="the demo number to register at Kamailio")
    assert proc.poll() is None, log.read_text()[-3000:]
    beat = wait_until(lambda: (row := _heartbeat()) is not None and row.info.get("registered") == 1 and row, 15,
                      what="a voice heartbeat that counts the registration")
    assert beat.info["sipPort"] == sip_port and beat.info["pid"] == proc.pid
    caller = Caller()
    try:
        call = caller.call("1001", kamailio.port, timeout=15)  # Kamailio relays to the registered contact
        span = call.media.wait_speech_end(0.0, 20, quiet=0.8)
        assert span is not None and span[1] - span[0] > 2.0, "no greeting through the PBX"
        call.hangup()
    finally:
        caller.stop()
    with database.connection_context():
        record = wait_until(lambda: CallRecord.get_or_none(CallRecord.sip_call_id == call.call_id), 10,
                            what="the call record")
    wait_until(lambda: _ended(record.id), 15, what="the record to be closed")


def _ended(record_id: str) -> CallRecord | None:
    with database.connection_context():
        row = CallRecord.get_by_id(record_id)
        return row if row.ended_at is not None else None


def test_dial_places_the_call_and_the_api_hangs_it_up(voice_process, sipp, tmp_path):
    config, proc, kamailio, sip_port, log = voice_process
    scenario = tmp_path / "uas_wait_bye.xml"
    scenario.write_text(UAS_WAIT_BYE)
    peer = sipp(str(scenario), timeout=60).start()
    from web import create_app

    client = create_app(config).test_client()
    login = client.post("/api/v1/auth/login", json={"email": "priya.shah@callbox.local", "password": "demo-password"})
    assert login.status_code == 200, login.json
    headers = {"Authorization": f"Bearer {login.json['data']['tokens']['accessToken']}"}
    with database.connection_context():
        second = PhoneNumber.get(PhoneNumber.number == SECOND_NUMBER)
    resp = client.post("/api/v1/calls/dial", headers=headers,
                       json={"to": f"sip:uas@127.0.0.1:{peer.port}", "phoneNumberId": second.id})
    assert resp.status_code == 202, resp.json
    call_id = resp.json["data"]["callId"]
    wait_until(lambda: "answered" in [k for k, _ in events_of(call_id)], 30, what="the outbound call to be answered")
    time.sleep(1.0)  # the greeting plays
    resp = client.post(f"/api/v1/calls/{call_id}/hangup", headers=headers)
    assert resp.status_code == 202, resp.json
    assert peer.wait(30) == 0, peer.transcript()
    record = wait_until(lambda: _ended(call_id), 15, what="the record to be closed")
    assert record.direction == "outbound" and record.status == "completed"
    assert record.ended_reason == "api_hangup" and record.from_number == SECOND_NUMBER
    kinds = [k for k, _ in events_of(call_id)]
    assert {"started", "dialing", "answered", "ended"} <= set(kinds), kinds

    other = create_app(config).test_client()  # another workspace cannot touch the call
    with database.connection_context():
        assert Organization.select().count() >= 1
    signup = other.post("/api/v1/auth/signup", json={"email": "x@example.com", "password": "correct-horse-battery",
                                                     "name": "X", "organizationName": "Other"})
    token = signup.json["data"]["tokens"]["accessToken"]
    resp = other.post(f"/api/v1/calls/{call_id}/hangup", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and resp.json["error"]["code"] == "NOT_FOUND"
