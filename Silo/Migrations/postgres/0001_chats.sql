-- Every table is keyed by its grain id so it can later be sharded on that key (Citus).
CREATE TABLE chats (
    id          uuid        PRIMARY KEY,
    visitor_id  uuid        NOT NULL,
    status      text        NOT NULL,
    priority    text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- json, not jsonb: the stored text is returned byte for byte on every replay.
    document    json        NOT NULL
);

CREATE TABLE outbox (
    grain_id     uuid        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    kind         text        NOT NULL,
    payload      json        NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz NULL,
    PRIMARY KEY (grain_id, id)
);
