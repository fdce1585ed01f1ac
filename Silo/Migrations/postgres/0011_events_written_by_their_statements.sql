-- What a stored event costs a write (bench/RESULTS.md): the node's own statements now write the
-- events of what they store into the log themselves, from their parameters, in the same
-- statement (PostgresGrainStorage, PostgresMessageLog), instead of a PL/pgSQL trigger parsing
-- them back out of the row: about half of what an event cost a creation.
--
-- events_of_record stays for the records Orleans' ADO.NET provider writes (it stores a record's
-- events inside it; the batched storage takes them out first, so the trigger's WHEN clause does
-- not match its rows). chat_messages is written by PostgresMessageLog alone, whose append writes
-- its event: its trigger goes.
DROP TRIGGER events_of_message ON chat_messages;
DROP FUNCTION events_of_message();
