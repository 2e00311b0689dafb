"""Models of webhooks: outbound endpoints, deliveries and their attempts; inbound endpoints and what they received."""
from __future__ import annotations

from peewee import BooleanField, CharField, CompositeKey, DateTimeField, ForeignKeyField, IntegerField, TextField

from data.ai import Event
from data.base import BaseModel, IdField, JSONField, created_field, utcnow
from data.models import Organization

DELIVERY_STATUSES = ("pending", "delivered", "failed")
MAPPINGS = ("none", "call", "lead")
INBOUND_STATUSES = ("mapped", "unmapped", "invalid", "failed")


class Webhook(BaseModel):
    id = IdField("wh")
    organization = ForeignKeyField(Organization, backref="webhooks", on_delete="CASCADE")
    url = TextField()
    events = JSONField(default=list)
    secret = TextField()  # sealed with SecretBox; shown once at creation
    description = TextField(default="")
    headers = TextField(default="")  # custom request headers as sealed JSON (they often carry credentials)
    is_active = BooleanField(default=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhooks"


class Delivery(BaseModel):
    """One event to one webhook: tried until a 2xx or until the retries run out.

    ``next_attempt_at`` is when a worker may (re)claim it: a retry time, or while an attempt runs, the end of
    the claiming worker's lease, so a worker killed mid-attempt leaves nothing stuck.
    """

    id = IdField("dlv")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    webhook = ForeignKeyField(Webhook, backref="deliveries", on_delete="CASCADE")
    event = ForeignKeyField(Event, on_delete="CASCADE")
    event_type = CharField()
    status = CharField(default="pending")
    attempts = IntegerField(default=0)
    cycle_attempts = IntegerField(default=0)  # attempts since creation or the last manual redelivery
    next_attempt_at = DateTimeField(null=True)
    lease = CharField(null=True)
    last_status_code = IntegerField(null=True)
    last_error = TextField(null=True)
    last_latency_ms = IntegerField(null=True)
    response_excerpt = TextField(null=True)
    delivered_at = DateTimeField(null=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_deliveries"


class DeliveryAttempt(BaseModel):
    delivery = ForeignKeyField(Delivery, backref="attempt_log", on_delete="CASCADE")
    number = IntegerField()
    started_at = DateTimeField()
    success = BooleanField()
    status_code = IntegerField(null=True)
    latency_ms = IntegerField()
    error = TextField(null=True)
    response_excerpt = TextField(null=True)
    next_retry_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_attempts"
        primary_key = CompositeKey("delivery", "number")


class InboundWebhook(BaseModel):
    id = IdField("hook")
    organization = ForeignKeyField(Organization, backref="inbound_webhooks", on_delete="CASCADE")
    name = CharField()
    token = CharField(unique=True)  # the path part of /hooks/{token}; the secret, not the token, authenticates
    secret = TextField()  # sealed with SecretBox; shown once at creation
    mapping = CharField(default="none")
    is_active = BooleanField(default=True)
    last_received_at = DateTimeField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "inbound_webhooks"


class InboundEvent(BaseModel):
    id = IdField("ine")
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    hook = ForeignKeyField(InboundWebhook, backref="received", on_delete="CASCADE")
    signature = CharField()  # unique per hook: the same signed request twice is a replay
    external_id = CharField(null=True)
    sent_at = DateTimeField()
    payload = TextField()
    status = CharField()
    mapped_type = CharField(null=True)
    mapped_id = CharField(null=True)
    error = TextField(null=True)
    received_at = created_field()

    class Meta:
        table_name = "inbound_events"


WEBHOOK_MODELS = [Webhook, Delivery, DeliveryAttempt, InboundWebhook, InboundEvent]
