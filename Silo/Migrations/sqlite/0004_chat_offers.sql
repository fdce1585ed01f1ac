-- A row per offer of a chat to a commercial (IOfferBook): see the PostgreSQL migration 0007.
-- Ids are the UUIDs' text; offered_at is Unix milliseconds.
CREATE TABLE chat_offers (
    commercial_id TEXT    NOT NULL,
    chat_id       TEXT    NOT NULL,
    offered_at    INTEGER NOT NULL,
    PRIMARY KEY (commercial_id, chat_id)
) WITHOUT ROWID;
