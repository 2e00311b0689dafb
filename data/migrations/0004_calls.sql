-- Call records (CDR): the call, its timeline of events, transcript segments, notes and tags.
-- assistant/phone number/agent/campaign/lead ids are plain columns, not foreign keys: a call record keeps who
-- handled it after that assistant or agent is deleted (and agents, campaigns, leads arrive in later migrations).
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    status TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    extension TEXT,
    assistant_id TEXT,
    phone_number_id TEXT,
    agent_id TEXT,
    campaign_id TEXT,
    lead_id TEXT,
    sip_call_id TEXT,
    external_id TEXT,
    source TEXT NOT NULL DEFAULT 'voice',
    language TEXT,
    handled_by TEXT,
    outcome TEXT,
    outcome_details TEXT,
    ended_reason TEXT,
    started_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    ended_at TIMESTAMP,
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    current_transcript TEXT,
    ai_confidence REAL,
    summary TEXT,
    sentiment TEXT,
    sentiment_score REAL,
    intent_detected TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    keywords TEXT NOT NULL DEFAULT '[]',
    resolved BOOLEAN,
    structured_outputs TEXT NOT NULL DEFAULT '{}',
    analyzed_at TIMESTAMP,
    recording_path TEXT,
    recording_format TEXT,
    recording_duration_seconds INTEGER,
    recording_size INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- The list is always one organization's calls in the order of one column: every filter column sits between the
-- organization and (started_at, id), so a filtered page in the default order is an index range read that needs no
-- sort. The filters used most also carry the stats' columns (handled_by, outcome, duration_seconds), which makes
-- the list's stats (count, AI-handled, transfers, mean duration) an index-only scan.
CREATE INDEX calls_org_started ON calls (organization_id, started_at, id, handled_by, outcome, duration_seconds);
CREATE INDEX calls_org_status ON calls (organization_id, status, started_at, id, handled_by, outcome,
                                        duration_seconds);
CREATE INDEX calls_org_direction ON calls (organization_id, direction, started_at, id, handled_by, outcome,
                                           duration_seconds);
CREATE INDEX calls_org_handled ON calls (organization_id, handled_by, started_at, id, outcome, duration_seconds);
CREATE INDEX calls_org_outcome ON calls (organization_id, outcome, started_at, id, handled_by, duration_seconds);
CREATE INDEX calls_org_agent ON calls (organization_id, agent_id, started_at, id);
CREATE INDEX calls_org_assistant ON calls (organization_id, assistant_id, started_at, id);
CREATE INDEX calls_org_campaign ON calls (organization_id, campaign_id, started_at, id);
CREATE INDEX calls_org_language ON calls (organization_id, language, started_at, id);
CREATE INDEX calls_org_from ON calls (organization_id, from_number);
CREATE INDEX calls_org_to ON calls (organization_id, to_number);
CREATE INDEX calls_org_extension ON calls (organization_id, extension);
CREATE INDEX calls_org_duration ON calls (organization_id, duration_seconds, id);
CREATE INDEX calls_org_changed ON calls (organization_id, updated_at);
CREATE INDEX calls_sip_call_id ON calls (sip_call_id);
CREATE UNIQUE INDEX calls_org_external ON calls (organization_id, external_id);

CREATE TABLE call_events (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX call_events_call ON call_events (call_id, created_at);

CREATE TABLE transcript_segments (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    speaker TEXT NOT NULL,
    text TEXT NOT NULL,
    start_seconds REAL NOT NULL,
    end_seconds REAL NOT NULL,
    confidence REAL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX transcript_segments_call ON transcript_segments (call_id, start_seconds);

CREATE TABLE call_notes (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX call_notes_call ON call_notes (call_id, created_at);
CREATE INDEX call_notes_author ON call_notes (author_id);

CREATE TABLE call_tags (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (call_id, tag)
);
CREATE INDEX call_tags_tag ON call_tags (tag);
