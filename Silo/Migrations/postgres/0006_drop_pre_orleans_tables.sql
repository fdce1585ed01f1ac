-- Before the move onto Orleans each grain kind had its own table and an outbox. Grain state now
-- lives in OrleansStorage and events on Orleans streams; rate limits are counted by grains.
-- Their rows are not carried over (see CHANGELOG).
DROP TABLE IF EXISTS chats, outbox, chat_sessions, chat_messages, guest_users, livechat_sessions, rate_limits;
DROP FUNCTION IF EXISTS rate_limit_acquire(text, int, int);
