-- A row per message of a chat (IMessageLog), so a message costs one small insert however long
-- its chat is: the chat's grain record held its open page of up to 50 messages and was
-- rewritten whole on every message. Pages in such records are moved here by the chat's grain
-- when it is next activated. The unique index makes a resend (same client id) idempotent.
CREATE TABLE chat_messages (
    chat_id           uuid        NOT NULL,
    seq               bigint      NOT NULL,
    client_message_id uuid        NOT NULL,
    sender_role       text        NOT NULL CHECK (sender_role IN ('visitor', 'commercial')),
    sender_id         uuid        NOT NULL,
    text              text        NOT NULL,
    sent_at           timestamptz NOT NULL,
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, client_message_id)
);
