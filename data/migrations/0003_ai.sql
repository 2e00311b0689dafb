-- The AI: assistants, knowledge base, phone numbers (SIP accounts), appointments, /ai/test sessions,
-- add-on switches, the calendar feed token, and the events outbox that webhooks fan out later.
CREATE TABLE assistants (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'en',
    voice TEXT NOT NULL DEFAULT '{}',
    asr TEXT NOT NULL DEFAULT '{}',
    greeting_message TEXT NOT NULL DEFAULT '',
    closing_message TEXT NOT NULL DEFAULT '',
    tone TEXT NOT NULL DEFAULT 'professional',
    speaking_style TEXT NOT NULL DEFAULT 'balanced',
    transfer_rules TEXT NOT NULL DEFAULT '{}',
    transfer_destination TEXT,
    safety_rules TEXT NOT NULL DEFAULT '{}',
    enable_sentiment BOOLEAN NOT NULL DEFAULT TRUE,
    enable_intent BOOLEAN NOT NULL DEFAULT TRUE,
    booking_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    business_hours TEXT NOT NULL DEFAULT '{}',
    after_hours_action TEXT NOT NULL DEFAULT 'assistant',
    appointment_minutes INTEGER NOT NULL DEFAULT 30,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX assistants_org ON assistants (organization_id, created_at);

CREATE TABLE knowledge_items (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    category TEXT NOT NULL DEFAULT 'general',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    question_variations TEXT NOT NULL DEFAULT '[]',
    is_priority BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    usage_count INTEGER NOT NULL DEFAULT 0,
    last_used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX knowledge_items_org ON knowledge_items (organization_id, category);

CREATE TABLE phone_numbers (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    sip_server TEXT,
    sip_port INTEGER NOT NULL DEFAULT 5060,
    sip_username TEXT,
    sip_password TEXT NOT NULL DEFAULT '',
    sip_transport TEXT NOT NULL DEFAULT 'udp',
    assistant_id TEXT REFERENCES assistants (id) ON DELETE SET NULL,
    business_hours TEXT NOT NULL DEFAULT '{}',
    after_hours_action TEXT NOT NULL DEFAULT 'assistant',
    after_hours_destination TEXT,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    registration_status TEXT NOT NULL DEFAULT 'unregistered',
    registration_error TEXT,
    registered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organization_id, number)
);

CREATE TABLE appointments (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id TEXT,
    assistant_id TEXT REFERENCES assistants (id) ON DELETE SET NULL,
    customer_name TEXT NOT NULL,
    customer_phone TEXT,
    appointment_date TEXT NOT NULL,
    appointment_time TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL DEFAULT 30,
    appointment_type TEXT NOT NULL DEFAULT 'appointment',
    status TEXT NOT NULL DEFAULT 'scheduled',
    quality_score INTEGER,
    notes TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'MANUAL',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX appointments_org_time ON appointments (organization_id, starts_at);

CREATE TABLE ai_sessions (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    assistant_id TEXT REFERENCES assistants (id) ON DELETE CASCADE,
    language TEXT NOT NULL DEFAULT 'en',
    state TEXT NOT NULL DEFAULT '{}',
    turns INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ai_sessions_org_time ON ai_sessions (organization_id, updated_at);

CREATE TABLE addon_states (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    addon_type TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, addon_type)
);

CREATE TABLE calendar_feeds (
    organization_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    dispatched_at TIMESTAMP
);
CREATE INDEX events_pending ON events (dispatched_at, created_at);
CREATE INDEX events_org_time ON events (organization_id, created_at);
