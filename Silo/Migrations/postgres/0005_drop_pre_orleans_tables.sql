-- Before the move onto Orleans each grain kind had its own table and an outbox, rate limits had
-- counters and the node dashboard its own membership and statistics. Grain state now lives in
-- OrleansStorage, events on Orleans streams, rate limits in grains, membership in Orleans'
-- table, and operators use the Orleans dashboard and OpenTelemetry metrics. Their rows are not
-- carried over (see CHANGELOG).
DROP TABLE IF EXISTS chats, outbox, chat_sessions, chat_messages, guest_users, livechat_sessions, rate_limits,
    cluster_members, node_stats, grain_creations;
DROP FUNCTION IF EXISTS rate_limit_acquire(text, int, int);
