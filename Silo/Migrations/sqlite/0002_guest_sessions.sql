CREATE TABLE chat_sessions (
    session_key  TEXT NOT NULL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    guest_name   TEXT NULL,
    guest_email  TEXT NULL,
    guest_phone  TEXT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE chat_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key  TEXT NOT NULL,
    sender       TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE INDEX chat_messages_by_session ON chat_messages (session_key, created_at, id);
