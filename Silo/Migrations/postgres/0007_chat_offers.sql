-- A row per offer of a chat to a commercial (IOfferBook), so an offer costs one row however
-- many a commercial has pending; the commercial's grain record kept them all in one payload,
-- rewritten on every offer. Offers still in such a record are moved here by the commercial's
-- grain when it is next activated.
CREATE TABLE chat_offers (
    commercial_id uuid        NOT NULL,
    chat_id       uuid        NOT NULL,
    offered_at    timestamptz NOT NULL,
    PRIMARY KEY (commercial_id, chat_id)
);
