-- The durable event log (IEventLog, GET /v2/events): one row per stored change that other
-- systems are told of. Rows are written by the triggers below, in the statement that stores the
-- change (a chat's or a session's record, a message's row), so an event exists if and only if
-- its change was stored, whichever node or grain storage provider wrote it.
--
-- Order: (tx, position). tx is the writing transaction's id; a reader is served only events of
-- transactions older than every transaction still running (pg_snapshot_xmin), so an event never
-- appears behind a position a reader has passed (a bigserial alone would: transactions commit
-- in another order than they draw numbers).
--
-- Cost: ids are time-ordered (UUID v7, made below), so the primary key
-- grows at its end like the order index instead of splitting random pages; the data is json
-- (the record's text, checked, not re-encoded as jsonb).
CREATE FUNCTION events_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
        PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

CREATE TABLE events (
    position    bigint      GENERATED ALWAYS AS IDENTITY,
    tx          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    id          uuid        NOT NULL DEFAULT events_uuid_v7() PRIMARY KEY,
    type        text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    chat_id     uuid,
    chat_seq    bigint,
    data        json        NOT NULL,
    -- A chat's events are numbered from 1 without gaps by its single activation; two activations
    -- (a membership change) numbering the same event fail the second write instead.
    UNIQUE (chat_id, chat_seq)
);
CREATE INDEX events_order ON events (tx, position);
-- Retention deletes by age; rows arrive in time order, so a block range index suffices.
CREATE INDEX events_stored_at ON events USING brin (stored_at);

-- A chat's, guest session's or live-chat session's record carries the events of the change it
-- is written with in its "Events" array (RecordWithEvents); the record's value is their data.
-- The array stays in the stored record until the next write replaces it, so an event the row
-- already held is not new: a rewrite that keeps it (an operator's UPDATE, a later migration)
-- stores nothing again.
CREATE FUNCTION events_of_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    record json := convert_from(NEW.payloadbinary, 'UTF8')::json;
    held jsonb := '[]';
BEGIN
    IF TG_OP = 'UPDATE' AND position('"Events":[{'::bytea IN coalesce(OLD.payloadbinary, ''::bytea)) > 0 THEN
        held := coalesce(convert_from(OLD.payloadbinary, 'UTF8')::jsonb -> 'Events', '[]');
    END IF;
    INSERT INTO events (type, occurred_at, chat_id, chat_seq, data)
    SELECT e ->> 'Type', (e ->> 'OccurredAt')::timestamptz, (e ->> 'ChatId')::uuid, (e ->> 'ChatSeq')::bigint, record -> 'Value'
    FROM json_array_elements(record -> 'Events') AS e
    WHERE NOT held @> jsonb_build_array(e::jsonb);
    RETURN NULL;
END
$$;

-- The WHEN clause spares every other write the JSON parse: an "Events" array with an element
-- can only be written by a change that carries events (a quote inside a string is escaped).
CREATE TRIGGER events_of_record AFTER INSERT OR UPDATE OF payloadbinary ON orleansstorage
FOR EACH ROW
WHEN (NEW.graintypestring IN ('chat', 'guestSession', 'liveChatSession')
      AND position('"Events":[{'::bytea IN NEW.payloadbinary) > 0)
EXECUTE FUNCTION events_of_record();

-- A new message's event, numbered by its chat (event_seq); rows moved from older records have none.
ALTER TABLE chat_messages ADD COLUMN event_seq bigint;

CREATE FUNCTION events_of_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (type, occurred_at, chat_id, chat_seq, data)
    VALUES ('message.created', NEW.sent_at, NEW.chat_id, NEW.event_seq, json_build_object(
        'Seq', NEW.seq, 'Id', NEW.client_message_id, 'SenderRole', NEW.sender_role, 'SenderId', NEW.sender_id,
        'Text', NEW.text, 'SentAt', NEW.sent_at));
    RETURN NULL;
END
$$;

CREATE TRIGGER events_of_message AFTER INSERT ON chat_messages
FOR EACH ROW WHEN (NEW.event_seq IS NOT NULL)
EXECUTE FUNCTION events_of_message();
