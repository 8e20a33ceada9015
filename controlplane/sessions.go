package controlplane

import (
	"context"
	"time"
)

// SessionStore keeps the admin console's sign-in sessions, so that every
// server process on one database knows them. A session holds no secret a
// thief could sign in with: its ID is the SHA-256 of the token in the
// browser's cookie, never the token itself, and it names the API key by
// id, never by secret.
type SessionStore interface {
	// CreateSession stores a new session together with the events,
	// atomically. A known ID is ErrAlreadyExists.
	CreateSession(ctx context.Context, s Session, events ...Event) error
	// GetSession returns a session by ID, or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession sets the session's SeenAt to at when at is later than
	// the stored one (an earlier at changes nothing and is no error). An
	// unknown id is ErrNotFound.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession removes a session; an unknown id is ErrNotFound.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes every session whose ExpiresAt is not
	// after now, or whose SeenAt is before seenBefore, and returns how many
	// it removed.
	DeleteExpiredSessions(ctx context.Context, now, seenBefore time.Time) (int, error)
}

// Session is one signed-in console session as stored.
type Session struct {
	ID        string // hex SHA-256 of the session token; the token itself is never stored
	KeyID     string // the API key that signed in
	SecretTag string // digest of the key's stored hash at sign-in: a replaced secret ends the session
	CSRF      string // the session's anti-forgery token, sent back with every form
	CreatedAt time.Time
	SeenAt    time.Time // the last request; the idle limit counts from it
	ExpiresAt time.Time // the absolute end, whatever the activity
}
