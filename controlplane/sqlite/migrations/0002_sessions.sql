-- The admin console's sign-in sessions. id is the SHA-256 of the token in
-- the browser's cookie; the token and the API key's secret are never stored.

CREATE TABLE sessions (
	id         TEXT    NOT NULL PRIMARY KEY,
	key_id     TEXT    NOT NULL,
	secret_tag TEXT    NOT NULL,
	csrf       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_seen ON sessions (seen_at);
