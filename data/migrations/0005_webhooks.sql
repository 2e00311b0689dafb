-- Webhooks: outbound endpoints, their deliveries (one per event and endpoint) with every attempt logged,
-- and inbound endpoints (/hooks/{token}) with the events they received.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',
    secret TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    headers TEXT NOT NULL DEFAULT '',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (organization_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    cycle_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    last_latency_ms INTEGER,
    response_excerpt TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (webhook_id, event_id)
);
-- The worker's hot queries: what is due (all endpoints), and what is due for one endpoint.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    success BOOLEAN NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    response_excerpt TEXT,
    next_retry_at TIMESTAMP,
    PRIMARY KEY (delivery_id, number)
);

CREATE TABLE inbound_webhooks (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    mapping TEXT NOT NULL DEFAULT 'none',
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    last_received_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inbound_webhooks_org ON inbound_webhooks (organization_id, created_at);

CREATE TABLE inbound_events (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hook_id TEXT NOT NULL REFERENCES inbound_webhooks (id) ON DELETE CASCADE,
    signature TEXT NOT NULL,
    external_id TEXT,
    sent_at TIMESTAMP NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    mapped_type TEXT,
    mapped_id TEXT,
    error TEXT,
    received_at TIMESTAMP NOT NULL,
    UNIQUE (hook_id, signature),
    UNIQUE (hook_id, external_id)
);
CREATE INDEX inbound_events_hook_time ON inbound_events (hook_id, received_at);
