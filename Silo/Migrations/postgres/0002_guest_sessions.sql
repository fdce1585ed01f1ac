-- Keyed by the client's session_id (the grain key); id is the server-made identity.
CREATE TABLE chat_sessions (
    session_key  text        PRIMARY KEY,
    id           uuid        NOT NULL UNIQUE,
    guest_name   text        NULL,
    guest_email  text        NULL,
    guest_phone  text        NULL,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE chat_messages (
    session_key  text        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    sender       text        NOT NULL,
    body         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (session_key, id)
);

-- Cluster-wide rate limits: one row per limited key, holding the times of the requests it
-- admitted within the last window (at most the limit's worth).
CREATE TABLE rate_limits (
    key   text          PRIMARY KEY,
    hits  timestamptz[] NOT NULL
);
