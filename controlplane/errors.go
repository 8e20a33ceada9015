package controlplane

import "errors"

// Errors of the Store interface; every implementation wraps its failures in
// one of these so that callers branch on them with errors.Is.
var (
	// ErrNotFound: no object with that identity.
	ErrNotFound = errors.New("controlplane: not found")
	// ErrAlreadyExists: an object with that identity or unique name exists.
	ErrAlreadyExists = errors.New("controlplane: already exists")
	// ErrConflict: the change contradicts the stored state, or lost a race
	// and may be retried.
	ErrConflict = errors.New("controlplane: conflict")
	// ErrInvalid: an argument the store cannot take (a cursor it did not
	// hand out, a machine listed twice, an unknown filter value).
	ErrInvalid = errors.New("controlplane: invalid store argument")
	// ErrUnavailable: the store cannot be reached now; the Server answers 503.
	ErrUnavailable = errors.New("controlplane: store unavailable")
	// ErrSchemaTooNew: the database was migrated by a newer version.
	ErrSchemaTooNew = errors.New("controlplane: database schema is newer than this binary")
)

// Errors of the Server.
var (
	// ErrConfig: the Config given to New is unusable.
	ErrConfig = errors.New("controlplane: invalid configuration")
	// ErrSecretKey: the secret key is missing, of the wrong size, unsafe on
	// disk, or not the one the stored signing keys were sealed with.
	ErrSecretKey = errors.New("controlplane: unusable secret key")
	// ErrSigningKey: a key given to [Server.ImportSigningKey] is not one
	// products would accept.
	ErrSigningKey = errors.New("controlplane: unusable signing key")
	// ErrClosed: the Server was closed.
	ErrClosed = errors.New("controlplane: server closed")
)
