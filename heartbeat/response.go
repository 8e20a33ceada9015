package heartbeat

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what the client reads from the control plane.
const (
	maxSuccessBody   = 64 << 10             // a lease is at most 16 KiB; leave room
	maxErrorBody     = 16 << 10             // error envelopes are small
	maxDrain         = 64 << 10             // read at most this much more so the connection can be reused
	maxRetryAfter    = 7 * 24 * time.Hour   // sanity bound; the loop clamps further
	maxNextHeartbeat = 365 * 24 * time.Hour // sanity bound; the loop clamps further
	maxMessage       = 256                  // bytes of the server's message kept in an Error
	maxCode          = 64                   // bytes of the server's code kept in an Error
	// MaxDeliveredToken bounds the optional license_key and keyset
	// members of a success answer (the licence verifier's own limit).
	MaxDeliveredToken = 16 << 10
)

// Lease statuses a success answer may carry.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
)

// wireResponse is the success body of activate and heartbeat.
type wireResponse struct {
	Status         string   `json:"status"`
	Lease          string   `json:"lease"`
	NextHeartbeatS *float64 `json:"next_heartbeat_s"`
	ServerTime     string   `json:"server_time"`
	LicenseKey     *string  `json:"license_key"`
	Keyset         *string  `json:"keyset"`
}

// wireError is the control plane's error envelope: {"error": {"code", "message"}}.
type wireError struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// parseResponse turns what the control plane answered into a Response (for
// a 2xx of activate or heartbeat), nil (for a 2xx of deactivate) or an
// *Error. body has already been cut to a limit; tooBig says it was longer.
// now is the local time, used for an HTTP-date Retry-After when the answer
// has no usable Date header. It never panics, whatever the input.
func parseResponse(op string, status int, h http.Header, body []byte, tooBig bool, now time.Time) (*Response, error) {
	if status >= 200 && status < 300 {
		if op == opDeactivate {
			return nil, nil
		}
		if tooBig {
			return nil, &Error{Op: op, StatusCode: status, Kind: ErrUnavailable,
				Err: fmt.Errorf("%w: body over %d bytes", ErrBadResponse, maxSuccessBody)}
		}
		resp, err := decodeSuccess(body)
		if err != nil {
			return nil, &Error{Op: op, StatusCode: status, Kind: ErrUnavailable, Err: err}
		}
		return resp, nil
	}
	return nil, classify(op, status, h, body, tooBig, now)
}

// decodeSuccess checks the shape of a success body: status one of three,
// lease present. It does not verify the lease; the caller does.
func decodeSuccess(body []byte) (*Response, error) {
	var w wireResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	switch w.Status {
	case StatusActive, StatusSuspended, StatusRevoked:
	default:
		return nil, fmt.Errorf("%w: unknown status %q", ErrBadResponse, clip(w.Status, maxCode))
	}
	if w.Lease == "" {
		return nil, fmt.Errorf("%w: no lease", ErrBadResponse)
	}
	r := &Response{Status: w.Status, Lease: w.Lease}
	for _, m := range []struct {
		name string
		v    *string
		dst  *string
	}{{"license_key", w.LicenseKey, &r.LicenseKey}, {"keyset", w.Keyset, &r.Keyset}} {
		if m.v == nil {
			continue
		}
		if *m.v == "" || len(*m.v) > MaxDeliveredToken || strings.IndexFunc(*m.v, notCompactJWS) >= 0 {
			return nil, fmt.Errorf("%w: %s is not a compact JWS of at most %d bytes", ErrBadResponse, m.name, MaxDeliveredToken)
		}
		*m.dst = *m.v
	}
	if w.NextHeartbeatS != nil {
		r.NextHeartbeat = secondsToDuration(*w.NextHeartbeatS, maxNextHeartbeat)
	}
	if w.ServerTime != "" {
		// Informational only (the lease carries the signed time), so a
		// value that does not parse is ignored rather than fatal.
		if t, err := time.Parse(time.RFC3339Nano, w.ServerTime); err == nil {
			r.ServerTime = t
		}
	}
	return r, nil
}

// notCompactJWS reports a byte that no compact JWS holds (base64url and dots).
func notCompactJWS(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
}

// classify maps a non-2xx answer to an *Error.
func classify(op string, status int, h http.Header, body []byte, tooBig bool, now time.Time) *Error {
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter(h, now)}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		e.Date = d.UTC()
	}
	var env wireError
	if !tooBig && json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Code = clip(env.Error.Code, maxCode)
		e.Message = clip(env.Error.Message, maxMessage)
	}
	switch {
	case status == http.StatusNotFound && e.Code == "NOT_FOUND":
		e.Kind = ErrUnknownLicense
	case status == http.StatusConflict && e.Code == "CONFLICT":
		e.Kind = ErrBoundElsewhere
	case status == http.StatusForbidden && e.Code == "REVOKED":
		e.Kind = ErrRevoked
	case status == http.StatusForbidden && e.Code == "SUSPENDED":
		e.Kind = ErrSuspended
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		e.Kind = ErrUnavailable
	case status == http.StatusBadRequest && e.Code == "KEY_REPLACED":
		e.Kind, e.Err = ErrRejected, ErrKeyReplaced
	case status == http.StatusNotImplemented:
		e.Kind = ErrRejected
	case status >= 500 && status < 600:
		e.Kind = ErrUnavailable
	case status >= 400 && status < 500:
		// Includes a 404 or 409 without the control plane's envelope: a
		// proxy or a wrong BaseURL said it, not the control plane.
		e.Kind = ErrRejected
	case status >= 300 && status < 400:
		// Redirects are not followed by the default client; a captive
		// portal or a misrouted proxy is not an answer.
		e.Kind = ErrUnavailable
		e.Err = fmt.Errorf("%w: redirect (HTTP %d) not followed", ErrBadResponse, status)
	default:
		e.Kind = ErrUnavailable
		e.Err = fmt.Errorf("%w: unexpected HTTP status %d", ErrBadResponse, status)
	}
	return e
}

// retryAfter reads Retry-After as delay-seconds or as an HTTP-date. A date
// is measured against the answer's own Date header when it has one (so the
// local clock does not matter), otherwise against now. Garbage counts as
// absent (0); a date in the past gives 0; huge values are clamped.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if isDigits(v) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // all digits, so only overflow fails: huge
		}
		return time.Duration(n) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	d := at.Sub(now) // saturates instead of overflowing
	switch {
	case d <= 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// secondsToDuration converts a JSON number of seconds, treating negative
// values as absent and clamping to limit before converting (no overflow).
func secondsToDuration(s float64, limit time.Duration) time.Duration {
	if math.IsNaN(s) || s <= 0 {
		return 0
	}
	if s >= limit.Seconds() {
		return limit
	}
	return time.Duration(s * float64(time.Second))
}

// clip makes a server-provided string safe to log: valid UTF-8, no control
// characters, at most n bytes.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
