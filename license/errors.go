package license

import "errors"

// Error is the type of the package's sentinel errors. Each carries a stable
// machine code, one of the Code… constants, that [Code] extracts from any
// error wrapping it.
type Error struct {
	code string
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Code returns the stable machine code of the sentinel, e.g. [CodeExpired].
func (e *Error) Code() string { return e.code }

// The machine codes of the sentinel errors, as [Code] returns them. They
// are stable: products may switch on them, log them and send them on.
const (
	CodeMalformed        = "MALFORMED"
	CodeAlgorithm        = "BAD_ALGORITHM"
	CodeUnknownKey       = "UNKNOWN_KEY"
	CodeSignature        = "INVALID_SIGNATURE"
	CodeExpired          = "EXPIRED"
	CodeNotYetValid      = "NOT_YET_VALID"
	CodeClaims           = "INVALID_CLAIMS"
	CodeFingerprint      = "FINGERPRINT_MISMATCH"
	CodeKeyFile          = "INVALID_KEY_FILE"
	CodeRevoked          = "REVOKED"
	CodeSuspended        = "SUSPENDED"
	CodeGraceExpired     = "GRACE_EXPIRED"
	CodeClockTampered    = "CLOCK_TAMPERED"
	CodeNotActivated     = "NOT_ACTIVATED"
	CodeCapability       = "CAPABILITY_NOT_GRANTED"
	CodeUnlicensed       = "UNLICENSED"
	CodeConfig           = "CONFIG"
	CodeAlreadyActivated = "ALREADY_ACTIVATED"
	CodeUnavailable      = "UNAVAILABLE"
	CodeClosed           = "CLOSED"
	CodeOfflineResponse  = "INVALID_OFFLINE_RESPONSE"
	CodeKeyset           = "INVALID_KEYSET"
	CodeLicenseKey       = "INVALID_LICENSE_KEY"
)

// The sentinel errors. Every error this package returns for a rejected
// token, key file or licence state wraps exactly one of them; match with
// [errors.Is] and read the machine code with [Code].
var (
	// ErrMalformed: not a compact JWS, bad base64 or JSON, oversized, or a forbidden header.
	ErrMalformed = &Error{CodeMalformed, "license: malformed token"}
	// ErrAlgorithm: the alg is not allowed for the key (none, HS*, or a mismatch with the key's type).
	ErrAlgorithm = &Error{CodeAlgorithm, "license: algorithm not allowed"}
	// ErrUnknownKey: the kid is not in the keyring (or is missing while the keyring has several keys).
	ErrUnknownKey = &Error{CodeUnknownKey, "license: unknown signing key"}
	// ErrSignature: the signature does not verify.
	ErrSignature = &Error{CodeSignature, "license: invalid signature"}
	// ErrExpired: now is past exp plus leeway.
	ErrExpired = &Error{CodeExpired, "license: expired"}
	// ErrNotYetValid: now is before nbf minus leeway, or iat is in the future beyond leeway.
	ErrNotYetValid = &Error{CodeNotYetValid, "license: not yet valid"}
	// ErrClaims: a required claim is missing or wrongly typed, or issuer or audience do not match.
	ErrClaims = &Error{CodeClaims, "license: invalid claims"}
	// ErrFingerprint: the token is bound to another machine.
	ErrFingerprint = &Error{CodeFingerprint, "license: bound to another machine"}
	// ErrKeyFile: the key file is unreadable, of the wrong format, or its claims differ from its tokens'.
	ErrKeyFile = &Error{CodeKeyFile, "license: invalid key file"}
	// ErrRevoked: the control plane revoked the licence; sticky across restarts.
	ErrRevoked = &Error{CodeRevoked, "license: revoked"}
	// ErrSuspended: the subscription is invalid; use is paused until restored.
	ErrSuspended = &Error{CodeSuspended, "license: suspended"}
	// ErrGraceExpired: offline for longer than the grace window.
	ErrGraceExpired = &Error{CodeGraceExpired, "license: offline grace period expired"}
	// ErrClockTampered: the wall clock went back past the recorded high-water mark.
	ErrClockTampered = &Error{CodeClockTampered, "license: system clock was set back"}
	// ErrNotActivated: the licence needs activation on this machine first.
	ErrNotActivated = &Error{CodeNotActivated, "license: not activated on this machine"}

	// ErrCapability is returned by [Manager.Require] when the licence
	// allows use but does not grant the capability asked for.
	ErrCapability = &Error{CodeCapability, "license: capability not granted"}
	// ErrUnlicensed is returned by [Manager.Require] when there is no valid
	// licence key at all and no more specific reason is known, and by
	// [Manager.Deactivate] when there is no key to remove.
	ErrUnlicensed = &Error{CodeUnlicensed, "license: no valid licence key"}
	// ErrConfig is returned by [Open] for a configuration it cannot work
	// with; the message names the Config field to fix.
	ErrConfig = &Error{CodeConfig, "license: invalid configuration"}
	// ErrAlreadyActivated is returned by [Manager.Activate] while a
	// licence key is installed: deactivate it first.
	ErrAlreadyActivated = &Error{CodeAlreadyActivated, "license: a licence key is already activated"}
	// ErrUnavailable is returned by [Manager.Deactivate] when the control
	// plane could not be asked to release this machine; nothing changed.
	ErrUnavailable = &Error{CodeUnavailable, "license: control plane unavailable"}
	// ErrClosed is returned by the methods that change the licence once
	// [Manager.Close] was called.
	ErrClosed = &Error{CodeClosed, "license: manager is closed"}
	// ErrOfflineResponse: an offline activation response that is not the
	// answer to this machine's pending request: no request pending, another
	// nonce (an old response replayed), or a lease without offline: true.
	ErrOfflineResponse = &Error{CodeOfflineResponse, "license: offline response does not answer this machine's request"}
	// ErrKeyset: a keyset statement that verifies but cannot be accepted:
	// not newer than the last one accepted, a key whose kid is not its
	// thumbprint, a kid that names another key, or too many keys learnt.
	ErrKeyset = &Error{CodeKeyset, "license: keyset statement refused"}
	// ErrLicenseKey: a licence key delivered by the control plane that
	// verifies but is not a key of the licence in use: another licence id
	// or other audience claims (aud, sub, tid, tenant_ctry).
	ErrLicenseKey = &Error{CodeLicenseKey, "license: delivered licence key refused"}
)

// Code returns the machine code of the sentinel that err wraps, such as
// [CodeExpired], or "" when err is nil or wraps none of them.
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

// failWith is fail with an underlying cause whose text the detail
// replaces (the cause stays matchable with errors.Is).
func failWith(sentinel *Error, detail string, cause error) error {
	return &wrapped{sentinel: sentinel, detail: detail, cause: cause}
}
