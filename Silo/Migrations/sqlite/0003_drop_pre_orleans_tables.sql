-- Before the move onto Orleans each grain kind had its own table and an outbox, and the node
-- dashboard its own membership and statistics. Grain state now lives in OrleansStorage, events
-- on Orleans streams, and operators use the Orleans dashboard and OpenTelemetry metrics. Their
-- rows are not carried over (see CHANGELOG).
DROP TABLE IF EXISTS chats;
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS chat_sessions;
DROP TABLE IF EXISTS chat_messages;
DROP TABLE IF EXISTS guest_users;
DROP TABLE IF EXISTS livechat_sessions;
DROP TABLE IF EXISTS cluster_members;
DROP TABLE IF EXISTS node_stats;
DROP TABLE IF EXISTS grain_creations;
