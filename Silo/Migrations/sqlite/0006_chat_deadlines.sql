-- When each open chat's grain must next check its timeouts (IChatDeadlines): see the PostgreSQL
-- migration 0009. Ids are the UUIDs' text; due_at is Unix milliseconds.
CREATE TABLE chat_deadlines (
    chat_id TEXT    PRIMARY KEY,
    due_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chat_deadlines_due ON chat_deadlines (due_at);

-- Chats stored before timeouts existed get a deadline now: see the PostgreSQL migration 0009.
INSERT INTO chat_deadlines (chat_id, due_at)
SELECT json_extract(chat, '$.Id'), CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM (SELECT json_extract(CAST(PayloadBinary AS TEXT), '$.Value') AS chat
      FROM OrleansStorage WHERE GrainTypeString = 'chat' AND PayloadBinary IS NOT NULL)
WHERE json_extract(chat, '$.Id') IS NOT NULL AND coalesce(json_extract(chat, '$.Status'), '') NOT IN ('CLOSED', 2)
ON CONFLICT (chat_id) DO NOTHING;
