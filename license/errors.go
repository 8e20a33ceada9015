package license

import "errors"

// Error is the type of the package's sentinel errors. Each carries a stable
// machine code (see SPEC §2) that [Code] extracts from any error wrapping it.
type Error struct {
	code string
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Code returns the stable machine code of the sentinel, e.g. "EXPIRED".
func (e *Error) Code() string { return e.code }

// The sentinel errors. Every error this package returns for a rejected
// token, key file or licence state wraps exactly one of them; match with
// [errors.Is] and read the machine code with [Code].
var (
	// ErrMalformed: not a compact JWS, bad base64 or JSON, oversized, or a forbidden header.
	ErrMalformed = &Error{"MALFORMED", "license: malformed token"}
	// ErrAlgorithm: the alg is not allowed for the key (none, HS*, or a mismatch with the key's type).
	ErrAlgorithm = &Error{"BAD_ALGORITHM", "license: algorithm not allowed"}
	// ErrUnknownKey: the kid is not in the keyring (or is missing while the keyring has several keys).
	ErrUnknownKey = &Error{"UNKNOWN_KEY", "license: unknown signing key"}
	// ErrSignature: the signature does not verify.
	ErrSignature = &Error{"INVALID_SIGNATURE", "license: invalid signature"}
	// ErrExpired: now is past exp plus leeway.
	ErrExpired = &Error{"EXPIRED", "license: expired"}
	// ErrNotYetValid: now is before nbf minus leeway, or iat is in the future beyond leeway.
	ErrNotYetValid = &Error{"NOT_YET_VALID", "license: not yet valid"}
	// ErrClaims: a required claim is missing or wrongly typed, or issuer or audience do not match.
	ErrClaims = &Error{"INVALID_CLAIMS", "license: invalid claims"}
	// ErrFingerprint: the token is bound to another machine.
	ErrFingerprint = &Error{"FINGERPRINT_MISMATCH", "license: bound to another machine"}
	// ErrKeyFile: the key file is unreadable, of the wrong format, or its claims differ from its tokens'.
	ErrKeyFile = &Error{"INVALID_KEY_FILE", "license: invalid key file"}
	// ErrRevoked: the control plane revoked the licence; sticky across restarts.
	ErrRevoked = &Error{"REVOKED", "license: revoked"}
	// ErrSuspended: the subscription is invalid; use is paused until restored.
	ErrSuspended = &Error{"SUSPENDED", "license: suspended"}
	// ErrGraceExpired: offline for longer than the grace window.
	ErrGraceExpired = &Error{"GRACE_EXPIRED", "license: offline grace period expired"}
	// ErrClockTampered: the wall clock went back past the recorded high-water mark.
	ErrClockTampered = &Error{"CLOCK_TAMPERED", "license: system clock was set back"}
	// ErrNotActivated: the licence needs activation on this machine first.
	ErrNotActivated = &Error{"NOT_ACTIVATED", "license: not activated on this machine"}
)

// Code returns the machine code of the sentinel that err wraps, such as
// "EXPIRED", or "" when err is nil or wraps none of them.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return ""
}

// wrapped is an error carrying detail text, one sentinel and, for I/O
// failures, the underlying cause (so errors.Is(err, fs.ErrNotExist) works).
type wrapped struct {
	sentinel *Error
	detail   string
	cause    error
}

func (w *wrapped) Error() string { return w.sentinel.msg + ": " + w.detail }

func (w *wrapped) Unwrap() []error {
	if w.cause == nil {
		return []error{w.sentinel}
	}
	return []error{w.sentinel, w.cause}
}

// fail returns an error wrapping sentinel with a detail message. The
// detail never contains a whole token.
func fail(sentinel *Error, detail string) error {
	return &wrapped{sentinel: sentinel, detail: detail}
}

// failCause is fail with an underlying cause.
func failCause(sentinel *Error, cause error) error {
	return &wrapped{sentinel: sentinel, detail: cause.Error(), cause: cause}
}

// ErrCapability is returned by [Manager.Require] when the licence allows
// use but does not grant the capability asked for. It is an addition to
// the sentinels of SPEC §2, which has no code for this case.
var ErrCapability = &Error{"CAPABILITY_NOT_GRANTED", "license: capability not granted"}

// ErrUnlicensed is returned by [Manager.Require] when there is no valid
// licence key at all and no more specific reason is known. An addition to
// SPEC §2.
var ErrUnlicensed = &Error{"UNLICENSED", "license: no valid licence key"}
