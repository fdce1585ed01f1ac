-- The node dashboard's own tables (node heartbeats with stats snapshots, grain creations per
-- 10-second bucket). IF NOT EXISTS: databases migrated before the move onto Orleans have them.
CREATE TABLE IF NOT EXISTS cluster_members (
    node_id       text        PRIMARY KEY,
    host          text        NOT NULL,
    url           text        NOT NULL,
    version       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL,
    left_at       timestamptz NULL,
    stats         json        NULL
);

CREATE TABLE IF NOT EXISTS node_stats (
    node_id  text        NOT NULL,
    at       timestamptz NOT NULL,
    stats    json        NOT NULL,
    PRIMARY KEY (node_id, at)
);

CREATE TABLE IF NOT EXISTS grain_creations (
    kind     text        NOT NULL,
    bucket   timestamptz NOT NULL,
    created  bigint      NOT NULL,
    PRIMARY KEY (kind, bucket)
);
