package heartbeat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Operation names, as used in [Result.Op] and [Error.Op] and in the URL path.
const (
	OpActivate   = "activate"
	OpHeartbeat  = "heartbeat"
	opDeactivate = "deactivate"
)

// DefaultTimeout bounds each request when [Client.Timeout] is zero.
const DefaultTimeout = 15 * time.Second

// DefaultUserAgent is sent when [Client.UserAgent] is empty.
const DefaultUserAgent = "licensekit-heartbeat/1"

const maxLicenseID = 256 // bytes; a licence ID is a short opaque string

// defaultHTTPClient is used when Client.HTTPClient is nil. It uses the
// shared http.DefaultTransport (whose idle connections time out by
// themselves) and never follows redirects: a licence call is not re-sent
// to wherever a 3xx points. It is never modified after initialisation.
var defaultHTTPClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Client talks to the control plane's device calls: activate,
// heartbeat and deactivate. Its zero value is unusable only for lack of a
// BaseURL; every other field has a safe default. A Client holds no state
// and is safe for concurrent use; its fields must not change while calls
// are in flight.
type Client struct {
	// BaseURL is the control plane, e.g. "https://licensing.example.com".
	// Scheme http or https, with a host, no query or fragment.
	BaseURL string
	// HTTPClient sends the requests. Nil means a client on
	// http.DefaultTransport that does not follow redirects. Tests pass one
	// whose Transport is in memory.
	HTTPClient *http.Client
	// Timeout bounds each request, including reading the answer; 0 means
	// [DefaultTimeout]. The caller's context applies as well.
	Timeout time.Duration
	// UserAgent is the User-Agent header; empty means [DefaultUserAgent].
	UserAgent string
}

// Request is what the device sends. IdempotencyKey is only used (and
// required) by [Client.Activate].
type Request struct {
	// LicenseID is the licence's jti; it is path-escaped, never trusted.
	LicenseID string
	// Token is the licence JWS.
	Token string
	// Fingerprint is the machine fingerprint's String().
	Fingerprint string
	// IdempotencyKey identifies one activation across retries and restarts.
	// Persist it before the first send (see [NewIdempotencyKey]) so that a
	// retry after a crash does not bind twice.
	IdempotencyKey string
	// Nonce is sent with the request for the control plane to sign into the
	// lease it answers with, so that the caller can tell the answer to this
	// request from a genuine lease recorded earlier, or fetched by someone
	// else, and replayed. Empty: the Client draws a fresh one
	// ([NewNonce]) for every call and reports it in [Response.Nonce].
	Nonce string
}

// Response is a success answer of activate or heartbeat. Status is one of
// [StatusActive], [StatusSuspended] or [StatusRevoked], and Lease is not
// empty; nothing else is checked. The caller must verify the signed Lease
// before acting on it, and should trust the lease's claims over Status.
type Response struct {
	// Status is the licence's status as the control plane reports it.
	Status string
	// Lease is the lease JWS, unverified.
	Lease string
	// NextHeartbeat is when the control plane wants the next beat; 0 when it
	// did not say. Not yet clamped (the [Loop] does that).
	NextHeartbeat time.Duration
	// ServerTime is the control plane's clock; zero when absent or unparsable.
	ServerTime time.Time
	// LicenseKey is the licence token the control plane now holds for the
	// slot this machine presented, when that token was reset or renewed
	// since; "" when absent. Unverified: the caller verifies it as a
	// licence token and checks it is the same licence before using it.
	LicenseKey string
	// Keyset is the control plane's newest keyset statement (typ
	// keyset+jwt), announcing the signing keys it publishes; "" when
	// absent. Unverified: the caller verifies it with keys it already
	// trusts.
	Keyset string
	// Nonce is the nonce this request was sent with. A lease that answers
	// it carries the same value in its nonce claim; check that after
	// verifying the lease.
	Nonce string
}

// NewNonce returns a fresh random request nonce (26 characters, 130 bits
// from crypto/rand).
func NewNonce() string {
	return rand.Text()
}

// NewIdempotencyKey returns a fresh random key for [Request.IdempotencyKey]
// (26 characters, 130 bits from crypto/rand).
func NewIdempotencyKey() string {
	return rand.Text()
}

// Activate binds the licence to this machine and returns the first lease.
// r.IdempotencyKey is required and sent both in the body and as the
// Idempotency-Key header.
func (c *Client) Activate(ctx context.Context, r Request) (*Response, error) {
	return c.call(ctx, OpActivate, r)
}

// Heartbeat reports that the licence is in use on this machine and returns
// a fresh lease.
func (c *Client) Heartbeat(ctx context.Context, r Request) (*Response, error) {
	return c.call(ctx, OpHeartbeat, r)
}

// Deactivate releases this machine's binding. A definitive error such as
// [ErrUnknownLicense] may mean there was nothing to release.
func (c *Client) Deactivate(ctx context.Context, r Request) error {
	_, err := c.call(ctx, opDeactivate, r)
	return err
}

// CloseIdleConnections closes idle connections of the underlying HTTP client.
func (c *Client) CloseIdleConnections() {
	if c != nil {
		c.httpClient().CloseIdleConnections()
	}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

// call sends one request, without retrying: retries belong to the [Loop].
func (c *Client) call(ctx context.Context, op string, r Request) (*Response, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Client", ErrConfig)
	}
	if ctx == nil {
		return nil, fmt.Errorf("%w: nil context", ErrConfig)
	}
	endpoint, err := c.endpoint(r.LicenseID, op)
	if err != nil {
		return nil, err
	}
	if err := r.check(op); err != nil {
		return nil, err
	}
	if r.Nonce == "" {
		r.Nonce = NewNonce()
	}
	payload := map[string]string{"token": r.Token, "fingerprint": r.Fingerprint, "nonce": r.Nonce}
	if op == OpActivate {
		payload["idempotency_key"] = r.IdempotencyKey
	}
	body, err := json.Marshal(payload)
	if err != nil { // cannot happen with strings; kept for safety
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	if op == OpActivate {
		req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	}

	res, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &Error{Op: op, Kind: ErrUnavailable, Err: err}
	}
	limit := int64(maxErrorBody)
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		limit = maxSuccessBody
	}
	data, tooBig, err := readBody(res.Body, limit)
	if err != nil {
		return nil, &Error{Op: op, StatusCode: res.StatusCode, Kind: ErrUnavailable, Err: err}
	}
	resp, err := parseResponse(op, res.StatusCode, res.Header, data, tooBig, time.Now())
	if resp != nil {
		resp.Nonce = r.Nonce
	}
	return resp, err
}

// readBody reads at most limit bytes, reports whether there was more,
// drains a bounded remainder (so the connection can be reused without
// letting a server make us read forever) and closes the body.
func readBody(body io.ReadCloser, limit int64) (data []byte, tooBig bool, err error) {
	defer body.Close()
	data, err = io.ReadAll(io.LimitReader(body, limit+1))
	if int64(len(data)) > limit {
		data, tooBig = data[:limit], true
	}
	if err == nil {
		_, _ = io.CopyN(io.Discard, body, maxDrain)
	}
	return data, tooBig, err
}

// endpoint builds {BaseURL}/licenses/{escaped id}/{op}.
func (c *Client) endpoint(licenseID, op string) (string, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.ForceQuery || base.Fragment != "" || base.Opaque != "" {
		return "", fmt.Errorf("%w: BaseURL must be an http(s) URL with a host and no query", ErrConfig)
	}
	switch {
	case licenseID == "", licenseID == ".", licenseID == "..":
		return "", fmt.Errorf("%w: unusable licence ID %q", ErrConfig, clip(licenseID, 32))
	case len(licenseID) > maxLicenseID:
		return "", fmt.Errorf("%w: licence ID longer than %d bytes", ErrConfig, maxLicenseID)
	}
	path := strings.TrimRight(base.EscapedPath(), "/") + "/licenses/" + url.PathEscape(licenseID) + "/" + op
	u, err := url.Parse(base.Scheme + "://" + base.Host + path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrConfig, err)
	}
	u.User = base.User
	return u.String(), nil
}

// check validates the request fields for op.
func (r Request) check(op string) error {
	switch {
	case r.Token == "":
		return fmt.Errorf("%w: empty token", ErrConfig)
	case r.Fingerprint == "":
		return fmt.Errorf("%w: empty fingerprint", ErrConfig)
	case len(r.Nonce) > 64 || strings.IndexFunc(r.Nonce, notVisibleASCII) >= 0:
		return fmt.Errorf("%w: nonce must be at most 64 visible ASCII characters", ErrConfig)
	case op != OpActivate:
		return nil
	case r.IdempotencyKey == "":
		return fmt.Errorf("%w: activation without an idempotency key", ErrConfig)
	case len(r.IdempotencyKey) > 255 || strings.IndexFunc(r.IdempotencyKey, notVisibleASCII) >= 0:
		return fmt.Errorf("%w: idempotency key must be 1-255 visible ASCII characters", ErrConfig)
	}
	return nil
}

func notVisibleASCII(r rune) bool { return r <= ' ' || r > '~' }

// redact shortens a secret for logs: its first characters and its length.
func redact(s string) string {
	const keep = 6
	if len(s) <= keep*2 {
		return fmt.Sprintf("[%d bytes]", len(s))
	}
	return fmt.Sprintf("%s…[%d bytes]", s[:keep], len(s))
}
