package heartbeat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Definitive answers: the control plane understood the request and said no.
// Retrying sooner does not change them; the caller acts on them at once.
var (
	// ErrUnknownLicense means the control plane does not know the licence (HTTP 404).
	ErrUnknownLicense = errors.New("heartbeat: unknown licence")
	// ErrBoundElsewhere means the licence is bound to another machine (HTTP 409).
	ErrBoundElsewhere = errors.New("heartbeat: licence bound to another machine")
	// ErrRevoked means the control plane revoked the licence (HTTP 403, code REVOKED).
	ErrRevoked = errors.New("heartbeat: licence revoked")
	// ErrSuspended means the subscription is suspended (HTTP 403, code SUSPENDED).
	ErrSuspended = errors.New("heartbeat: licence suspended")
	// ErrRejected means any other refusal: a 4xx that is not retryable, or 501.
	ErrRejected = errors.New("heartbeat: request rejected by control plane")
)

// Transport failures: no usable answer arrived. They never change a
// licence's state by themselves and are retried with backoff.
var (
	// ErrUnavailable means the control plane could not be reached or gave no
	// usable answer: network error, timeout, 408, 429, 5xx other than 501, a
	// redirect, or a malformed or oversized success body.
	ErrUnavailable = errors.New("heartbeat: control plane unavailable")
	// ErrBadResponse is the cause (next to [ErrUnavailable]) when a success
	// body is oversized or does not have the documented shape.
	ErrBadResponse = errors.New("heartbeat: malformed response from control plane")
)

// ErrKeyReplaced is the cause (next to [ErrRejected]) when the control
// plane refuses the licence token presented because a reset or a renewal
// replaced it, and the licence is not bound to this machine (HTTP 400,
// code KEY_REPLACED). A product holding the key file's other slot can
// present that one instead.
var ErrKeyReplaced = errors.New("heartbeat: licence key replaced")

// ErrConfig means the call was not sent because the [Client], [Request] or
// [Loop] is unusable (empty or unsafe licence ID, missing token, bad BaseURL,
// activation without an idempotency key). It is neither definitive nor
// transient: fix the configuration.
var ErrConfig = errors.New("heartbeat: invalid configuration")

// Error is the error returned for every call that was sent. It matches
// exactly one of the sentinels above through [errors.Is] (its Kind), and
// also its Err, when there is one (for example context.DeadlineExceeded or
// [ErrBadResponse]). Use [errors.As] to read the status code, the server's
// error code or Retry-After.
type Error struct {
	// Op is the call: "activate", "heartbeat" or "deactivate".
	Op string
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Code is the server's machine code from the error body, e.g. "NOT_FOUND".
	Code string
	// Message is the server's message, shortened and stripped of control characters.
	Message string
	// RetryAfter is the server's Retry-After, clamped to [0, 7 days]; 0 when absent.
	RetryAfter time.Duration
	// Date is the answer's Date header (the server's clock, one-second
	// resolution), zero when absent or unparsable. It is unsigned: use it
	// only to order a refusal after the leases that preceded it, never to
	// grant time.
	Date time.Time
	// Kind is the sentinel this error matches: ErrUnavailable, ErrRevoked, …
	Kind error
	// Err is the underlying cause, if any (network error, decoding error).
	Err error
}

// Error describes the failure without secrets: no token, no request body.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("heartbeat: error")
	}
	b.WriteString(" (")
	b.WriteString(e.Op)
	if e.StatusCode != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " %q", e.Message)
	}
	if e.RetryAfter > 0 {
		b.WriteString(", retry after ")
		b.WriteString(e.RetryAfter.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the Kind and the cause, so [errors.Is] matches both.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// IsDefinitive reports whether err is a definitive answer of the control
// plane ([ErrUnknownLicense], [ErrBoundElsewhere], [ErrRevoked],
// [ErrSuspended] or [ErrRejected]), as opposed to a transport failure or a
// configuration error.
func IsDefinitive(err error) bool {
	return errors.Is(err, ErrUnknownLicense) || errors.Is(err, ErrBoundElsewhere) ||
		errors.Is(err, ErrRevoked) || errors.Is(err, ErrSuspended) || errors.Is(err, ErrRejected)
}

// IsTransient reports whether err is a transport failure ([ErrUnavailable]):
// retry later, and change nothing because of it.
func IsTransient(err error) bool {
	return errors.Is(err, ErrUnavailable)
}

// retryAfterOf returns the Retry-After carried by err, 0 when none.
func retryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
