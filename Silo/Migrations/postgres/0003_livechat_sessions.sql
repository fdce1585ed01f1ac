-- Guests of the live chat, created implicitly with their first session.
CREATE TABLE guest_users (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    city        text        NOT NULL,
    country     text        NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE livechat_sessions (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
