-- Before the move onto Orleans each grain kind had its own table and an outbox. Grain state now
-- lives in OrleansStorage and events on Orleans streams. Their rows are not carried over (see CHANGELOG).
DROP TABLE IF EXISTS chats;
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS chat_sessions;
DROP TABLE IF EXISTS chat_messages;
DROP TABLE IF EXISTS guest_users;
DROP TABLE IF EXISTS livechat_sessions;
