"""The LLM add-on against a local server speaking the OpenAI chat-completions wire format: on, off, failing."""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance import llm
from appliance.errors import ServiceUnavailable
from voice.dialog.types import AssistantProfile

API = "/api/v1"


class FakeLlm:
    """A chat-completions server on 127.0.0.1 whose behaviour a test picks (``mode``)."""

    def __init__(self):
        self.mode, self.reply, self.requests = "ok", "Hello, how are you?", []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                       "body": json.loads(self.rfile.read(length) or b"{}")})
                outer.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, handler):
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            return self._send(handler, 500, {"error": {"message": "model crashed"}})
        if self.mode == "garbage":
            return self._send(handler, 200, {"unexpected": True})
        body = {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                "model": handler.headers.get("X-Model", "test-model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": self.reply}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
        self._send(handler, 200, body)

    @staticmethod
    def _send(handler, status, body):
        raw = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)


@pytest.fixture
def fake_llm():
    server = FakeLlm()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def configure(client, account, endpoint, api_key="sk-local-test"):
    resp = client.put(f"{API}/settings", headers=account.headers,
                      json={"llm": {"endpoint": endpoint, "model": "llama-3.2-1b", "apiKey": api_key}})
    assert resp.status_code == 200, resp.json


def translate(client, account, text="Hola, ¿cómo estás?"):
    return client.post(f"{API}/translate", headers=account.headers, json={"text": text, "targetLanguage": "English"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_translate_off_is_503_with_advice(client, owner):
    resp = translate(client, owner)
    assert resp.status_code == 503
    assert resp.json["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "llm.endpoint" in resp.json["error"]["message"]


def test_translate_on(client, owner, fake_llm):
    configure(client, owner, fake_llm.url)
    resp = translate(client, owner)
    assert resp.status_code == 200, resp.json
    assert resp.json["data"] == {"translatedText": "Hello, how are you?", "targetLanguage": "English",
                                 "model": "llama-3.2-1b"}
    sent = fake_llm.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["auth"] == "Bearer sk-local-test"
    assert sent["body"]["model"] == "llama-3.2-1b" and sent["body"]["stream"] is False
    assert sent["body"]["messages"][-1] == {"role": "user", "content": "Hola, ¿cómo estás?"}
    assert "English" in sent["body"]["messages"][0]["content"]


def test_endpoint_with_v1_suffix_and_no_key(client, owner, fake_llm):
    configure(client, owner, fake_llm.url + "/v1/", api_key=None)
    assert translate(client, owner).status_code == 200
    assert fake_llm.requests[-1]["path"] == "/v1/chat/completions" and fake_llm.requests[-1]["auth"] is None


@pytest.mark.parametrize("mode, why", [("error", "HTTP 500"), ("garbage", "not an OpenAI chat completion")])
def test_translate_failing_server_is_503(client, owner, fake_llm, mode, why):
    configure(client, owner, fake_llm.url)
    fake_llm.mode = mode
    resp = translate(client, owner)
    assert resp.status_code == 503
    assert why in resp.json["error"]["message"]
    assert "sk-local-test" not in json.dumps(resp.json)


def test_translate_unreachable_server_is_503(client, owner):
    configure(client, owner, f"http://127.0.0.1:{free_port()}")
    resp = translate(client, owner)
    assert resp.status_code == 503 and "unreachable" in resp.json["error"]["message"]


def test_slow_server_times_out(fake_llm):
    fake_llm.mode = "slow"
    settings = llm.LlmSettings(fake_llm.url, "m", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="unreachable"):
        llm.chat(settings, [{"role": "user", "content": "hi"}])
    assert time.monotonic() - started < 1.2


def test_translate_validation_and_roles(client, team, fake_llm):
    configure(client, team["OWNER"], fake_llm.url)
    assert client.post(f"{API}/translate", headers=team["AGENT"].headers, json={"text": ""}).status_code == 422
    assert translate(client, team["AGENT"]).status_code == 200
    assert translate(client, team["VIEWER"]).status_code == 403


def test_phraser_keeps_to_the_answer(fake_llm):
    phraser = llm.LlmPhraser(llm.LlmSettings(fake_llm.url, "m", timeout=2))
    profile = AssistantProfile(name="Sunny", business_name="Sunrise Dental")
    fake_llm.reply = "A cleaning is $120, exam included."
    assert phraser.phrase("price?", "A check-up with cleaning costs $120, including the exam.",
                          profile=profile) == "A cleaning is $120, exam included."
    fake_llm.reply = "A cleaning is $99 today only!"  # a number the knowledge does not have
    assert phraser.phrase("price?", "A check-up with cleaning costs $120.", profile=profile) is None
    fake_llm.mode = "error"
    assert phraser.phrase("price?", "It costs $120.", profile=profile) is None
    assert "Sunrise Dental" in fake_llm.requests[0]["body"]["messages"][0]["content"]


def test_addons_toggle(client, team, fake_llm):
    owner = team["OWNER"]
    refused = client.post(f"{API}/addons/toggle", headers=owner.headers,
                          json={"addonType": "llm_analysis", "enabled": True})
    assert refused.status_code == 422 and "llm.endpoint" in refused.json["error"]["message"]
    configure(client, owner, fake_llm.url)
    on = client.post(f"{API}/addons/toggle", headers=owner.headers, json={"addonType": "llm_analysis", "enabled": True})
    assert on.status_code == 200 and on.json["data"]["enabled"] is True
    off = client.post(f"{API}/addons/toggle", headers=owner.headers,
                      json={"addonType": "call_recording", "enabled": False})
    assert off.json["data"] == {"addonType": "call_recording", "enabled": False, "available": True,
                                "description": off.json["data"]["description"]}
    assert client.get(f"{API}/settings", headers=owner.headers).json["data"]["recordingEnabled"] is False
    states = {a["addonType"]: a["enabled"] for a in
              client.get(f"{API}/addons", headers=team["VIEWER"].headers).json["data"]}
    assert states == {"llm_analysis": True, "appointments_by_ai": True, "enhanced_caller_id": False,
                      "call_recording": False, "sentiment": True}
    assert client.post(f"{API}/addons/toggle", headers=team["MANAGER"].headers,
                       json={"addonType": "sentiment", "enabled": False}).status_code == 403
    assert client.post(f"{API}/addons/toggle", headers=owner.headers,
                       json={"addonType": "teleport", "enabled": True}).status_code == 422


@pytest.fixture
def clinic(client, owner, config):
    from appliance.brain_demo import seed_ai_org
    from appliance.security import SecretBox
    from data.db import database
    from data.models import Organization

    with database.connection_context():
        seed_ai_org(Organization.get_by_id(owner.org_id), SecretBox(config.secret_key()))


def ask(client, account, text="How much is a cleaning?"):
    resp = client.post(f"{API}/ai/test", headers=account.headers, json={"userMessage": text})
    assert resp.status_code == 200, resp.json
    return resp.json["data"]


def test_ai_test_phrasing_on_off_failing(client, owner, clinic, fake_llm):
    own = ask(client, owner)["aiResponse"]
    assert "hundred and twenty dollars" in own and not fake_llm.requests  # add-on off: nothing sent
    configure(client, owner, fake_llm.url)
    client.post(f"{API}/addons/toggle", headers=owner.headers, json={"addonType": "llm_analysis", "enabled": True})
    fake_llm.reply = "Our cleaning with an exam is $120."
    phrased = ask(client, owner)
    assert phrased["aiResponse"] == "Our cleaning with an exam is a hundred and twenty dollars."
    assert phrased["intentDetected"] == "pricing"
    prompt = fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    assert "$120" in prompt and "How much is a cleaning?" in prompt
    fake_llm.mode = "error"
    assert ask(client, owner)["aiResponse"] == own  # a failing LLM never breaks the answer
    fake_llm.mode, fake_llm.reply = "ok", "A cleaning is $80."  # an invented price is dropped
    assert ask(client, owner)["aiResponse"] == own
