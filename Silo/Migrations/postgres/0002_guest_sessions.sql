-- Keyed by the client's session_id (the grain key); id is the server-made identity.
CREATE TABLE chat_sessions (
    session_key  text        PRIMARY KEY,
    id           uuid        NOT NULL UNIQUE,
    guest_name   text        NULL,
    guest_email  text        NULL,
    guest_phone  text        NULL,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE chat_messages (
    session_key  text        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    sender       text        NOT NULL,
    body         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (session_key, id)
);

-- Cluster-wide rate limits: one row per limited key, counting the requests it admitted in
-- each second of the last window (a ring of per-second buckets: bounded, whatever the limit).
-- UNLOGGED: counters need no durability, and without WAL a request does not wait for a flush
-- while it holds the key's row lock. A crash empties the table, which only forgives a minute.
CREATE UNLOGGED TABLE rate_limits (
    key          text    PRIMARY KEY,
    last_second  bigint  NOT NULL,
    buckets      int[]   NOT NULL
);

-- Admits a request for p_key while fewer than p_limit were admitted in the last p_window
-- seconds; the row lock makes concurrent callers on every node count exactly.
CREATE FUNCTION rate_limit_acquire(p_key text, p_limit int, p_window int)
RETURNS TABLE (admitted boolean, remaining int, retry_after int)
LANGUAGE plpgsql AS $$
DECLARE
    now_second bigint := floor(extract(epoch FROM clock_timestamp()));
    last bigint;
    counts int[];
    total int;
    second bigint;
BEGIN
    INSERT INTO rate_limits (key, last_second, buckets)
    VALUES (p_key, now_second, array_fill(0, ARRAY[p_window]))
    ON CONFLICT (key) DO NOTHING;

    SELECT r.last_second, r.buckets INTO last, counts FROM rate_limits r WHERE r.key = p_key FOR UPDATE;

    -- Empty the buckets of the seconds that left the window since the key was last seen.
    IF now_second - last >= p_window THEN
        counts := array_fill(0, ARRAY[p_window]);
    ELSE
        FOR second IN last + 1 .. now_second LOOP
            counts[second % p_window + 1] := 0;
        END LOOP;
    END IF;

    SELECT coalesce(sum(c), 0) INTO total FROM unnest(counts) AS c;
    admitted := total < p_limit;
    IF admitted THEN
        counts[now_second % p_window + 1] := counts[now_second % p_window + 1] + 1;
        total := total + 1;
    END IF;
    UPDATE rate_limits SET last_second = greatest(last, now_second), buckets = counts WHERE key = p_key;

    remaining := greatest(p_limit - total, 0);
    -- The next permit returns when the oldest counted second leaves the window.
    retry_after := 1;
    FOR second IN now_second - p_window + 1 .. now_second LOOP
        IF counts[second % p_window + 1] > 0 THEN
            retry_after := greatest(second + p_window - now_second, 1);
            EXIT;
        END IF;
    END LOOP;
    RETURN NEXT;
END
$$;
