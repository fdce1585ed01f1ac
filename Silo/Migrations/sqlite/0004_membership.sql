CREATE TABLE cluster_members (
    node_id       TEXT NOT NULL PRIMARY KEY,
    host          TEXT NOT NULL,
    url           TEXT NOT NULL,
    version       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL,
    left_at       TEXT NULL,
    stats         TEXT NULL
);

CREATE TABLE node_stats (
    node_id  TEXT NOT NULL,
    at       TEXT NOT NULL,
    stats    TEXT NOT NULL,
    PRIMARY KEY (node_id, at)
);

CREATE INDEX chats_created_at ON chats (created_at);
CREATE INDEX chat_sessions_created_at ON chat_sessions (created_at);
CREATE INDEX livechat_sessions_created_at ON livechat_sessions (created_at);
