"""The AI as a whole: the default assistant (``/ai/config``), text tests of the dialog engine, add-ons, translation.

Access (lowest role):
| endpoint            | role    | why                                                                        |
|---------------------|---------|----------------------------------------------------------------------------|
| GET /ai/config      | VIEWER  | reading the configuration reveals no secret                                |
| PATCH /ai/config    | MANAGER | same as PATCH /assistants/{id}: changes what callers hear                  |
| POST /ai/test       | AGENT   | a conversation may book or cancel real appointments, which AGENTs may do    |
| POST /translate     | AGENT   | staff translating what callers said; uses the workspace's LLM endpoint      |
| GET /addons         | VIEWER  | which features are on                                                      |
| POST /addons/toggle | ADMIN   | switches workspace-wide features (recording, the LLM)                      |
"""
from __future__ import annotations

import base64
import io
import wave

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from appliance import addons, assistants, audit, brain, llm
from appliance.errors import ServiceUnavailable, ValidationError
from appliance.roles import Role
from web.api.assistants import AssistantPatchSchema, AssistantSchema
from web.api.common import ErrorEnvelopeSchema, Schema, envelope
from web.auth import access, client_ip, current_principal
from web.context import config, secret_box

blp = Blueprint("ai", __name__, description="AI configuration, test conversations, add-ons, translation")

MAX_TEST_MESSAGE = 20_000


class AiConfigSchema(AssistantSchema):
    assistantName = fields.String(dump_only=True, metadata={"description": "the same as name"})


class AiTestSchema(Schema):
    userMessage = fields.String(required=True, validate=validate.Length(max=MAX_TEST_MESSAGE),
                                metadata={"description": "what the caller says (empty: silence)"})
    language = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"))
    assistantId = fields.String(validate=validate.Length(max=64))
    sessionId = fields.String(validate=validate.Length(max=64),
                              metadata={"description": "continue a conversation (from a previous answer)"})


class AiTestArgsSchema(Schema):
    audio = fields.Boolean(load_default=False, metadata={"description": "also return the reply as base64 WAV"})


class AiTestResultSchema(Schema):
    aiResponse = fields.String(required=True)
    confidence = fields.Float(required=True, metadata={"description": "percent, 0-100"})
    intentDetected = fields.String(required=True)
    sentiment = fields.String(required=True)
    responseTime = fields.Integer(required=True, metadata={"description": "milliseconds the engine took"})
    sessionId = fields.String(required=True)
    greeting = fields.String(allow_none=True, metadata={"description": "the assistant's greeting (first turn)"})
    action = fields.String()
    state = fields.String()
    knowledgeId = fields.String(allow_none=True)
    transferTo = fields.String(allow_none=True)
    transferReason = fields.String(allow_none=True)
    appointmentId = fields.String(allow_none=True)
    endCall = fields.Boolean()
    language = fields.String(allow_none=True)
    flags = fields.List(fields.String())
    assistantId = fields.String(allow_none=True)
    audio = fields.String(metadata={"description": "base64 WAV of aiResponse (with ?audio=1)"})
    audioFormat = fields.String()


class TranslateSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    targetLanguage = fields.String(required=True, validate=validate.Length(min=2, max=40))


class TranslatedSchema(Schema):
    translatedText = fields.String(required=True)
    targetLanguage = fields.String(required=True)
    model = fields.String()


class AddonSchema(Schema):
    addonType = fields.String(required=True, metadata={"enum": list(addons.ADDONS)})
    enabled = fields.Boolean(required=True)
    available = fields.Boolean()
    description = fields.String()


class AddonToggleSchema(Schema):
    addonType = fields.String(required=True, validate=validate.OneOf(list(addons.ADDONS)))
    enabled = fields.Boolean(required=True)


def _index_cache() -> brain.IndexCache:
    # One cache per app (not per module): built knowledge indexes, refreshed when the knowledge changes.
    return current_app.extensions.setdefault("callbox.knowledge_indexes", brain.IndexCache())


def _speaker(language: str):
    """A text → WAV bytes function for ``language``; 503 (before the turn runs) when no voice can be loaded."""
    voices = current_app.extensions.setdefault("callbox.tts_voices", {})
    key = (language or "en").lower()[:2]
    if key not in voices:
        try:
            from voice.tts import make_tts
        except ImportError as exc:
            raise ServiceUnavailable("Speech synthesis (Piper TTS) is not installed on this appliance: "
                                     "ask without ?audio=1 for a text-only answer") from exc
        voices[key] = make_tts(config(), key)  # TtsError is a 503 that says what to install
    engine = voices[key]

    def speak(text: str) -> bytes:
        pcm, rate = engine.synthesize(text)
        return wav_bytes(pcm, rate)
    return speak


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


def _config_view(org_id: str) -> dict:
    data = assistants.default_view(org_id)
    data["assistantName"] = data["name"]
    return data


@blp.route("/ai/config")
class AiConfig(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(AiConfigSchema))
    def get(self):
        """The workspace's default assistant (defaults with ``id`` null when there is none yet)."""
        return {"data": _config_view(current_principal().organization.id)}

    @access(Role.MANAGER)
    @blp.arguments(AssistantPatchSchema)
    @blp.response(200, envelope(AiConfigSchema))
    def patch(self, body):
        """Change the default assistant (created, and made the default, when there is none)."""
        principal = current_principal()
        row = assistants.update_default(principal.organization.id, body, secret_box())
        audit.record("ai.config_updated", organization_id=principal.organization.id, user_id=principal.user_id,
                     target_type="assistant", target_id=row.id, ip=client_ip())
        return {"data": _config_view(principal.organization.id)}


@blp.route("/ai/test")
class AiTest(MethodView):
    @access(Role.AGENT)
    @blp.arguments(AiTestArgsSchema, location="query")
    @blp.arguments(AiTestSchema)
    @blp.response(200, envelope(AiTestResultSchema))
    def post(self, args, body):
        """One caller turn through the dialog engine; pass ``sessionId`` back to continue the conversation."""
        org = current_principal().organization
        speaker = _speaker(brain.voice_language(org.id, body)) if args["audio"] else None
        result = brain.test_turn(org, body, secret_box(), _index_cache())
        if speaker is not None:
            result.update(audio=base64.b64encode(speaker(result["aiResponse"])).decode("ascii"), audioFormat="wav")
        return {"data": result}


@blp.route("/translate")
class Translate(MethodView):
    @access(Role.AGENT)
    @blp.arguments(TranslateSchema)
    @blp.response(200, envelope(TranslatedSchema))
    @blp.alt_response(503, schema=ErrorEnvelopeSchema, description="No LLM add-on configured, or it is unreachable")
    def post(self, body):
        """Translate text through the workspace's LLM add-on (503 when there is none or it fails)."""
        settings = llm.require_settings(current_principal().organization.id, secret_box())
        text = llm.translate(settings, body["text"], body["targetLanguage"])
        return {"data": {"translatedText": text, "targetLanguage": body["targetLanguage"], "model": settings.model}}


@blp.route("/addons")
class Addons(MethodView):
    @access(Role.VIEWER)
    @blp.response(200, envelope(AddonSchema, many=True))
    def get(self):
        """Add-ons and whether each is on."""
        return {"data": addons.list_addons(current_principal().organization.id, secret_box())}


@blp.route("/addons/toggle")
class AddonsToggle(MethodView):
    @access(Role.ADMIN)
    @blp.arguments(AddonToggleSchema)
    @blp.response(200, envelope(AddonSchema))
    def post(self, body):
        """Switch an add-on on or off."""
        principal, box = current_principal(), secret_box()
        org_id, addon = principal.organization.id, body["addonType"]
        if addon == "llm_analysis" and body["enabled"] and not addons.llm_configured(org_id, box):
            raise ValidationError("Configure llm.endpoint and llm.model in PUT /settings before enabling "
                                  "llm_analysis")
        addons.toggle(org_id, addon, body["enabled"], box)
        audit.record("addon.toggled", organization_id=org_id, user_id=principal.user_id, target_type="addon",
                     target_id=addon, ip=client_ip(), enabled=body["enabled"])
        state = next(a for a in addons.list_addons(org_id, box) if a["addonType"] == addon)
        return {"data": state, "message": f"Add-on {addon} {'enabled' if body['enabled'] else 'disabled'}"}
