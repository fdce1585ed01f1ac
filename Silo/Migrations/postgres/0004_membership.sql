CREATE TABLE cluster_members (
    node_id       text        PRIMARY KEY,
    host          text        NOT NULL,
    url           text        NOT NULL,
    version       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL,
    left_at       timestamptz NULL,
    stats         json        NULL
);

-- Each heartbeat's snapshot, kept for a few minutes for the dashboard's charts.
CREATE TABLE node_stats (
    node_id  text        NOT NULL,
    at       timestamptz NOT NULL,
    stats    json        NOT NULL,
    PRIMARY KEY (node_id, at)
);

-- "Created in the last minute / hour" for the dashboard, without scanning the tables.
CREATE INDEX chats_created_at ON chats (created_at);
CREATE INDEX chat_sessions_created_at ON chat_sessions (created_at);
CREATE INDEX livechat_sessions_created_at ON livechat_sessions (created_at);
