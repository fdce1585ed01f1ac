-- A row per message of a chat (IMessageLog): see the PostgreSQL migration 0008.
-- Ids are the UUIDs' text; sent_at is Unix milliseconds.
CREATE TABLE chat_messages (
    chat_id           TEXT    NOT NULL,
    seq               INTEGER NOT NULL,
    client_message_id TEXT    NOT NULL,
    sender_role       TEXT    NOT NULL CHECK (sender_role IN ('visitor', 'commercial')),
    sender_id         TEXT    NOT NULL,
    text              TEXT    NOT NULL,
    sent_at           INTEGER NOT NULL,
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, client_message_id)
) WITHOUT ROWID;
