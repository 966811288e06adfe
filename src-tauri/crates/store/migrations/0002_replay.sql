-- Session replay: sessions, their rrweb events in compressed chunks, and the full-snapshot
-- index that makes seeking cheap.

-- One row per user session, whichever signal named it first.
CREATE TABLE sessions (
    session_id        TEXT    PRIMARY KEY,
    first_seen_ms     INTEGER,            -- earliest replay event (Unix ms, rrweb's clock)
    last_seen_ms      INTEGER,            -- latest replay event
    user_id           TEXT,
    user_email        TEXT,
    start_url         TEXT,               -- the URL of the lowest batch received
    start_batch       INTEGER,            -- which batch start_url came from
    user_agent        TEXT,
    viewport          TEXT,               -- JSON {width, height} as the recorder reported it
    attributes        TEXT    NOT NULL DEFAULT '{}',  -- free meta attributes, latest wins per key
    event_count       INTEGER NOT NULL DEFAULT 0,
    batch_count       INTEGER NOT NULL DEFAULT 0,
    raw_bytes         INTEGER NOT NULL DEFAULT 0,     -- rrweb JSON as received
    stored_bytes      INTEGER NOT NULL DEFAULT 0,     -- compressed chunks
    error_count       INTEGER NOT NULL DEFAULT 0,
    frustration_score REAL    NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_by_first_seen ON sessions (first_seen_ms);
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;

-- Pages a session visited, in first-visit order.
CREATE TABLE session_pages (
    session_id    TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (session_id, url)
) WITHOUT ROWID;

-- A recorder batch, compressed as it arrived. (session_id, batch) is the idempotency key: a
-- retried batch is stored once. Reading a session in batch order gives the events in order
-- whatever order the batches arrived in.
CREATE TABLE replay_chunks (
    session_id    TEXT    NOT NULL,
    batch         INTEGER NOT NULL,
    first_ms      INTEGER NOT NULL,       -- time range of the chunk's events
    last_ms       INTEGER NOT NULL,
    event_count   INTEGER NOT NULL,
    raw_bytes     INTEGER NOT NULL,
    encoding      TEXT    NOT NULL,       -- 'zstd': a JSON array of rrweb events
    data          BLOB    NOT NULL,
    received_ms   INTEGER NOT NULL,
    PRIMARY KEY (session_id, batch)
) WITHOUT ROWID;
CREATE INDEX replay_chunks_by_time ON replay_chunks (session_id, first_ms);

-- Full snapshots (rrweb type 2): where playback can start without decoding what came before.
CREATE TABLE replay_checkpoints (
    session_id   TEXT    NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    batch        INTEGER NOT NULL,        -- the chunk that holds it
    event_index  INTEGER NOT NULL,        -- its position in that chunk
    PRIMARY KEY (session_id, timestamp_ms, batch, event_index)
) WITHOUT ROWID;
