-- The durable event log (IEventLog): see the PostgreSQL migration 0010. SQLite has one writer at
-- a time, which commits before the next inserts, so rows are numbered in commit order and the
-- row number alone orders the log. Ids are random UUIDs' text; occurred_at is ISO 8601 text;
-- stored_at is Unix milliseconds.
CREATE TABLE events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE DEFAULT (lower(
                    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                    || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))),
    type        TEXT    NOT NULL,
    occurred_at TEXT    NOT NULL,
    stored_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
    chat_id     TEXT,
    chat_seq    INTEGER,
    data        TEXT    NOT NULL,
    UNIQUE (chat_id, chat_seq)
);
CREATE INDEX events_stored_at ON events (stored_at);

-- A chat's or session's record carries the events of the change it is written with (see the
-- PostgreSQL migration); Orleans' ADO.NET provider updates the row, or inserts it the first time.
-- An event the row already held is not new (see the PostgreSQL migration). OR IGNORE: a failing
-- statement inside the provider's write script leaves the script's transaction open on its
-- pooled connection, and every later write of the node waits on that lock (seen in a test); one
-- node writes this file and a chat's activation numbers on from the log, so a taken number can
-- only come from a record edited by hand.
CREATE TRIGGER events_of_record_insert AFTER INSERT ON OrleansStorage
WHEN NEW.GrainTypeString IN ('chat', 'guestSession', 'liveChatSession')
     AND instr(CAST(NEW.PayloadBinary AS TEXT), '"Events":[{') > 0
BEGIN
    INSERT OR IGNORE INTO events (type, occurred_at, chat_id, chat_seq, data)
    SELECT json_extract(e.value, '$.Type'), json_extract(e.value, '$.OccurredAt'), json_extract(e.value, '$.ChatId'),
           json_extract(e.value, '$.ChatSeq'), json_extract(CAST(NEW.PayloadBinary AS TEXT), '$.Value')
    FROM json_each(CAST(NEW.PayloadBinary AS TEXT), '$.Events') AS e;
END;

CREATE TRIGGER events_of_record_update AFTER UPDATE OF PayloadBinary ON OrleansStorage
WHEN NEW.GrainTypeString IN ('chat', 'guestSession', 'liveChatSession')
     AND instr(CAST(NEW.PayloadBinary AS TEXT), '"Events":[{') > 0
BEGIN
    INSERT OR IGNORE INTO events (type, occurred_at, chat_id, chat_seq, data)
    SELECT json_extract(e.value, '$.Type'), json_extract(e.value, '$.OccurredAt'), json_extract(e.value, '$.ChatId'),
           json_extract(e.value, '$.ChatSeq'), json_extract(CAST(NEW.PayloadBinary AS TEXT), '$.Value')
    FROM json_each(CAST(NEW.PayloadBinary AS TEXT), '$.Events') AS e
    WHERE NOT EXISTS (
        SELECT 1 FROM json_each(CAST(OLD.PayloadBinary AS TEXT), '$.Events') AS held
        WHERE json_extract(held.value, '$.Type') IS json_extract(e.value, '$.Type')
          AND json_extract(held.value, '$.OccurredAt') IS json_extract(e.value, '$.OccurredAt')
          AND json_extract(held.value, '$.ChatSeq') IS json_extract(e.value, '$.ChatSeq'));
END;

-- A new message's event, numbered by its chat (event_seq); rows moved from older records have none.
ALTER TABLE chat_messages ADD COLUMN event_seq INTEGER;

CREATE TRIGGER events_of_message AFTER INSERT ON chat_messages
WHEN NEW.event_seq IS NOT NULL
BEGIN
    INSERT INTO events (type, occurred_at, chat_id, chat_seq, data)
    VALUES ('message.created', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.sent_at / 1000.0, 'unixepoch'), NEW.chat_id, NEW.event_seq,
            json_object('Seq', NEW.seq, 'Id', NEW.client_message_id, 'SenderRole', NEW.sender_role, 'SenderId', NEW.sender_id,
                        'Text', NEW.text, 'SentAt', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.sent_at / 1000.0, 'unixepoch')));
END;
