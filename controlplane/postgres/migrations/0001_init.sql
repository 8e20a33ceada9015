-- The control plane's first schema. Times are timestamptz (microseconds;
-- the zero time is 0001-01-01 00:00:00 UTC, the earliest value kept, so
-- comparisons stay right); durations are bigint nanoseconds; string lists
-- and maps are jsonb. Identifiers are COLLATE "C": they sort byte by byte,
-- as in the other stores, whatever the database's locale.

CREATE TABLE licenses (
	id                 text COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id          text COLLATE "C" NOT NULL,
	audience           jsonb       NOT NULL,
	subject            text        NOT NULL,
	tenant_country     text        NOT NULL,
	plan               text        NOT NULL,
	status             text        NOT NULL,
	capabilities       jsonb       NOT NULL,
	metadata           jsonb       NOT NULL,
	issued_at          timestamptz NOT NULL,
	expires_at         timestamptz NOT NULL,
	max_machines       bigint      NOT NULL,
	primary_token      text        NOT NULL,
	secondary_token    text        NOT NULL,
	primary_digest     text        NOT NULL,
	secondary_digest   text        NOT NULL,
	heartbeat_interval bigint      NOT NULL,
	grace              bigint      NOT NULL,
	updated_at         timestamptz NOT NULL
);
CREATE INDEX licenses_by_tenant ON licenses (tenant_id, id);
CREATE INDEX licenses_to_sweep ON licenses (expires_at) WHERE status IN ('active', 'suspended');

CREATE TABLE machines (
	license_id        text COLLATE "C" NOT NULL REFERENCES licenses (id),
	fingerprint       text COLLATE "C" NOT NULL,
	pos               integer     NOT NULL,
	tenant_id         text COLLATE "C" NOT NULL,
	activated_at      timestamptz NOT NULL,
	idempotency_key   text        NOT NULL,
	last_heartbeat_at timestamptz NOT NULL,
	due_at            timestamptz NOT NULL,
	lease_issued_at   timestamptz NOT NULL,
	lease_expires_at  timestamptz NOT NULL,
	released_at       timestamptz NOT NULL,
	dead              boolean     NOT NULL,
	key_slot          text        NOT NULL,
	key_digest        text        NOT NULL,
	offline           boolean     NOT NULL,
	PRIMARY KEY (license_id, fingerprint)
);
CREATE INDEX machines_by_tenant ON machines (tenant_id, license_id, fingerprint);
CREATE INDEX machines_to_sweep ON machines (lease_expires_at) WHERE NOT dead;

CREATE TABLE idempotency (
	actor        text COLLATE "C" NOT NULL,
	key          text COLLATE "C" NOT NULL,
	request_hash text        NOT NULL,
	license_id   text        NOT NULL,
	created_at   timestamptz NOT NULL,
	PRIMARY KEY (actor, key)
);

CREATE TABLE settings (
	id                 integer     NOT NULL PRIMARY KEY CHECK (id = 1),
	grace              bigint      NOT NULL,
	heartbeat_interval bigint      NOT NULL,
	offline_lease_ttl  bigint      NOT NULL,
	plan_ttls          jsonb       NOT NULL,
	updated_at         timestamptz NOT NULL
);

CREATE TABLE signing_keys (
	kid          text COLLATE "C" NOT NULL PRIMARY KEY,
	seq          bigint GENERATED ALWAYS AS IDENTITY,
	alg          text        NOT NULL,
	state        text        NOT NULL,
	public_jwk   bytea       NOT NULL,
	sealed       bytea       NOT NULL,
	created_at   timestamptz NOT NULL,
	activated_at timestamptz NOT NULL,
	retired_at   timestamptz NOT NULL
);
-- At most one key signs, whatever a process does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';

CREATE TABLE api_keys (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id  text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	role       text        NOT NULL,
	scopes     jsonb       NOT NULL,
	hash       bytea       NOT NULL,
	hint       text        NOT NULL,
	created_at timestamptz NOT NULL,
	created_by text        NOT NULL,
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz NOT NULL,
	UNIQUE (tenant_id, name)
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

CREATE TABLE events (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time       timestamptz NOT NULL,
	actor      text COLLATE "C" NOT NULL,
	action     text COLLATE "C" NOT NULL,
	target     text COLLATE "C" NOT NULL,
	tenant_id  text COLLATE "C" NOT NULL,
	request_id text        NOT NULL,
	details    jsonb       NOT NULL
);
CREATE INDEX events_by_tenant ON events (tenant_id, seq);
CREATE INDEX events_by_target ON events (target, seq);
CREATE INDEX events_by_action ON events (action, seq);
