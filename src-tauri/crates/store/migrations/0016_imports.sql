-- Bundles imported from other machines (`sightline import`, the UI, the watched inbox): each
-- once, by its content checksum, and the sessions that came with it (where they came from).
CREATE TABLE imports (
    checksum        TEXT    PRIMARY KEY,   -- the bundle manifest's content checksum
    file_name       TEXT    NOT NULL,
    imported_ms     INTEGER NOT NULL,
    exported_ms     INTEGER,
    source          TEXT,                  -- where it was exported (host, app version)
    manifest        TEXT    NOT NULL       -- the bundle's manifest, as JSON
) WITHOUT ROWID;

CREATE TABLE session_imports (
    session_id      TEXT    NOT NULL,
    checksum        TEXT    NOT NULL,
    PRIMARY KEY (session_id, checksum)
) WITHOUT ROWID;
