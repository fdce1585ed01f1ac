CREATE TABLE grain_creations (
    kind     TEXT    NOT NULL,
    bucket   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    PRIMARY KEY (kind, bucket)
);

DROP INDEX chats_created_at;
DROP INDEX chat_sessions_created_at;
DROP INDEX livechat_sessions_created_at;
