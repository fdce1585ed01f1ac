-- The node dashboard's own tables. IF NOT EXISTS: files migrated before the move onto Orleans have them.
CREATE TABLE IF NOT EXISTS cluster_members (
    node_id       TEXT NOT NULL PRIMARY KEY,
    host          TEXT NOT NULL,
    url           TEXT NOT NULL,
    version       TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL,
    left_at       TEXT NULL,
    stats         TEXT NULL
);

CREATE TABLE IF NOT EXISTS node_stats (
    node_id  TEXT NOT NULL,
    at       TEXT NOT NULL,
    stats    TEXT NOT NULL,
    PRIMARY KEY (node_id, at)
);

CREATE TABLE IF NOT EXISTS grain_creations (
    kind     TEXT    NOT NULL,
    bucket   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    PRIMARY KEY (kind, bucket)
);
