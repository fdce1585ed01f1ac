-- When each open chat's grain must next check its timeouts (IChatDeadlines): unanswered,
-- the inactivity warning, the inactivity close. A row is set before the change that needs it is
-- stored and may be earlier than the chat's real deadline (the grain then sets the next), never
-- later; it goes when the chat closes. Every node's sweep claims the due rows it will handle
-- (moving them a lease ahead), so a timeout needs no timer in memory and survives any node.
CREATE TABLE chat_deadlines (
    chat_id uuid        PRIMARY KEY,
    due_at  timestamptz NOT NULL
);
CREATE INDEX chat_deadlines_due ON chat_deadlines (due_at);

-- Chats stored before timeouts existed get a deadline now: each open one's grain is asked once
-- by the first sweep after the upgrade and sets its real deadline (or closes, when it is due).
WITH chats AS (
    SELECT convert_from(payloadbinary, 'UTF8')::jsonb -> 'Value' AS chat
    FROM orleansstorage
    WHERE graintypestring = 'chat' AND payloadbinary IS NOT NULL
)
INSERT INTO chat_deadlines (chat_id, due_at)
SELECT (chat ->> 'Id')::uuid, now() FROM chats
WHERE chat ->> 'Id' IS NOT NULL AND coalesce(chat ->> 'Status', '') NOT IN ('CLOSED', '2')
ON CONFLICT (chat_id) DO NOTHING;
