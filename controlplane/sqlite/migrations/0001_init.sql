-- The control plane's first schema. Times are INTEGER microseconds since
-- the Unix epoch in UTC (the zero time is -62135596800000000, the earliest
-- value, so comparisons stay right); durations are INTEGER nanoseconds;
-- string lists and maps are JSON text.

CREATE TABLE licenses (
	id                 TEXT    NOT NULL PRIMARY KEY,
	tenant_id          TEXT    NOT NULL,
	audience           TEXT    NOT NULL,
	subject            TEXT    NOT NULL,
	tenant_country     TEXT    NOT NULL,
	plan               TEXT    NOT NULL,
	status             TEXT    NOT NULL,
	capabilities       TEXT    NOT NULL,
	metadata           TEXT    NOT NULL,
	issued_at          INTEGER NOT NULL,
	expires_at         INTEGER NOT NULL,
	max_machines       INTEGER NOT NULL,
	primary_token      TEXT    NOT NULL,
	secondary_token    TEXT    NOT NULL,
	primary_digest     TEXT    NOT NULL,
	secondary_digest   TEXT    NOT NULL,
	heartbeat_interval INTEGER NOT NULL,
	grace              INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX licenses_by_tenant ON licenses (tenant_id, id);
CREATE INDEX licenses_by_status ON licenses (status, expires_at);

CREATE TABLE machines (
	license_id        TEXT    NOT NULL REFERENCES licenses (id),
	fingerprint       TEXT    NOT NULL,
	pos               INTEGER NOT NULL,
	tenant_id         TEXT    NOT NULL,
	activated_at      INTEGER NOT NULL,
	idempotency_key   TEXT    NOT NULL,
	last_heartbeat_at INTEGER NOT NULL,
	due_at            INTEGER NOT NULL,
	lease_issued_at   INTEGER NOT NULL,
	lease_expires_at  INTEGER NOT NULL,
	released_at       INTEGER NOT NULL,
	dead              INTEGER NOT NULL,
	key_slot          TEXT    NOT NULL,
	key_digest        TEXT    NOT NULL,
	offline           INTEGER NOT NULL,
	PRIMARY KEY (license_id, fingerprint)
) STRICT, WITHOUT ROWID;
CREATE INDEX machines_by_tenant ON machines (tenant_id, license_id, fingerprint);
CREATE INDEX machines_by_lease ON machines (dead, lease_expires_at);

CREATE TABLE idempotency (
	actor        TEXT    NOT NULL,
	key          TEXT    NOT NULL,
	request_hash TEXT    NOT NULL,
	license_id   TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	PRIMARY KEY (actor, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE settings (
	id                 INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	grace              INTEGER NOT NULL,
	heartbeat_interval INTEGER NOT NULL,
	offline_lease_ttl  INTEGER NOT NULL,
	plan_ttls          TEXT    NOT NULL,
	updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
	kid          TEXT    NOT NULL PRIMARY KEY,
	alg          TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	public_jwk   BLOB    NOT NULL,
	sealed       BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	activated_at INTEGER NOT NULL,
	retired_at   INTEGER NOT NULL
) STRICT;
-- At most one key signs, whatever a process does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';

CREATE TABLE api_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	tenant_id  TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	role       TEXT    NOT NULL,
	scopes     TEXT    NOT NULL,
	hash       BLOB    NOT NULL,
	hint       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT    NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL,
	UNIQUE (tenant_id, name)
) STRICT;

CREATE TABLE events (
	seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	time       INTEGER NOT NULL,
	actor      TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	tenant_id  TEXT    NOT NULL,
	request_id TEXT    NOT NULL,
	details    TEXT    NOT NULL
) STRICT;
CREATE INDEX events_by_tenant ON events (tenant_id, seq);
CREATE INDEX events_by_target ON events (target, seq);
CREATE INDEX events_by_action ON events (action, seq);
