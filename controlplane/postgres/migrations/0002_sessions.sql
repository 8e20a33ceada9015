-- The admin console's sign-in sessions. id is the SHA-256 of the token in
-- the browser's cookie; the token and the API key's secret are never stored.

CREATE TABLE sessions (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	key_id     text COLLATE "C" NOT NULL,
	secret_tag text        NOT NULL,
	csrf       text        NOT NULL,
	created_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_seen ON sessions (seen_at);
