package licensetest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/license"
)

// ControlPlane is an in-memory control plane that speaks the device calls
// of SPEC §6 (activate, heartbeat, deactivate) and issues real leases
// signed by its [Issuer]. Use it two ways:
//
//   - as an [http.RoundTripper] (see [ControlPlane.Client] and
//     [ControlPlane.URL]): no sockets, so it works inside a
//     testing/synctest bubble, where real sockets would stall fake time;
//   - as an [http.Handler] behind [ControlPlane.NewServer]'s
//     httptest.Server, for tests that want a real listener.
//
// Every licence the issuer signs is known to it until [ControlPlane.Forget].
// The test drives it: take it down, inject faults, suspend, restore,
// revoke, rebind, set the grace and interval it hands out, and inspect what
// it received. It is safe for concurrent use; times come from time.Now at
// each request, so a synctest bubble's fake clock applies.
type ControlPlane struct {
	issuer   *Issuer
	verifier *license.Verifier

	mu       sync.Mutex
	grace    time.Duration
	interval time.Duration
	down     bool
	faults   []Fault
	licenses map[string]*cpLicense
	received []Received
}

// cpLicense is the control plane's record of one licence.
type cpLicense struct {
	boundTo   string // fingerprint; "" when not bound
	status    string // license.LeaseActive, LeaseSuspended or LeaseRevoked
	forgotten bool
	activated map[string]string // idempotency key → fingerprint

	// The newest lease issued for the licence: the next one's iat must
	// follow it (see leaseTimes), and a seat its machine deactivates is
	// held until it expires.
	lastIat    time.Time
	lastStatus string
	lastExp    time.Time
	heldBy     string    // the fingerprint that deactivated; "" when no seat is held
	heldUntil  time.Time // the exp of the newest lease issued to heldBy
}

// Received is one request the control plane saw.
type Received struct {
	Op             string // "activate", "heartbeat" or "deactivate"
	LicenseID      string
	Fingerprint    string
	IdempotencyKey string
	At             time.Time
	Answer         int // the HTTP status it answered with; 0 while down
}

// Fault is an answer to force on the next request(s) instead of the real
// one; see [ControlPlane.Fail].
type Fault struct {
	// Status is the HTTP status to answer, e.g. 500, 503 or 429.
	Status int
	// RetryAfter is sent as the Retry-After header when non-empty
	// (seconds, or an HTTP date).
	RetryAfter string
	// Body is the answer's body; empty means a JSON error body. With
	// Status 200 it answers garbage in place of a lease.
	Body string
	// Delay holds the answer back this long (or until the request's
	// context is done): a slow control plane.
	Delay time.Duration
}

// Defaults of a [ControlPlane].
const (
	DefaultGrace    = 14 * 24 * time.Hour
	DefaultInterval = time.Hour
)

// baseURL is the address a ControlPlane answers at through its RoundTripper.
const baseURL = "http://licensetest.invalid"

// NewControlPlane returns a control plane issuing leases signed by iss.
func NewControlPlane(iss *Issuer) *ControlPlane {
	return &ControlPlane{
		issuer:   iss,
		verifier: iss.Verifier(license.WithLeeway(license.DefaultLeeway)),
		grace:    DefaultGrace,
		interval: DefaultInterval,
		licenses: map[string]*cpLicense{},
	}
}

// URL is the base URL to configure a product with when it talks to the
// control plane through [ControlPlane.Client] or the ControlPlane itself as
// transport.
func (cp *ControlPlane) URL() string { return baseURL }

// Client returns an HTTP client whose transport is the control plane, in
// memory.
func (cp *ControlPlane) Client() *http.Client { return &http.Client{Transport: cp} }

// NewServer starts an httptest.Server in front of the control plane and
// closes it when the test ends. Configure the product with its URL.
func (cp *ControlPlane) NewServer(t interface{ Cleanup(func()) }) *httptest.Server {
	srv := httptest.NewServer(cp)
	t.Cleanup(srv.Close)
	return srv
}

// ErrDown is the transport error a down control plane answers with.
var ErrDown = errors.New("licensetest: control plane is down")

// RoundTrip serves req in memory. While the control plane is down it
// fails like an unreachable host.
func (cp *ControlPlane) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if cp.unanswered(req) {
		return nil, ErrDown
	}
	rec := httptest.NewRecorder()
	cp.serve(rec, req)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// SetDown takes the control plane down (every request fails as if the host
// were unreachable: in memory, RoundTrip returns [ErrDown]; behind
// [ControlPlane.NewServer], the connection is dropped unanswered) or
// brings it back.
func (cp *ControlPlane) SetDown(down bool) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.down = down
}

// Fail queues faults: the next requests get them, one each, in order,
// before normal answers resume.
func (cp *ControlPlane) Fail(faults ...Fault) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.faults = append(cp.faults, faults...)
}

// SetGrace sets how long the leases it issues last (default 14 days).
func (cp *ControlPlane) SetGrace(d time.Duration) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.grace = d
}

// SetInterval sets the next_heartbeat_s it asks for (default 1 hour).
func (cp *ControlPlane) SetInterval(d time.Duration) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.interval = d
}

// Suspend marks the licence's subscription invalid: its leases say
// "suspended" until [ControlPlane.Restore].
func (cp *ControlPlane) Suspend(licenseID string) { cp.setStatus(licenseID, license.LeaseSuspended) }

// Restore undoes Suspend (and Revoke).
func (cp *ControlPlane) Restore(licenseID string) { cp.setStatus(licenseID, license.LeaseActive) }

// Revoke revokes the licence: activation is refused with 403 REVOKED and
// heartbeats answer a lease that says "revoked".
func (cp *ControlPlane) Revoke(licenseID string) { cp.setStatus(licenseID, license.LeaseRevoked) }

// Rebind moves the licence to another fingerprint ("" unbinds it), as a
// vendor admin does: the old machine's heartbeats are refused with 409, and
// a seat held after a deactivation is released.
func (cp *ControlPlane) Rebind(licenseID, fingerprint string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	l := cp.record(licenseID)
	l.boundTo = fingerprint
	l.heldBy, l.heldUntil = "", time.Time{}
}

// HeldUntil returns until when (inclusive) a seat freed by a deactivation
// stays held for the machine that deactivated, or the zero time when none
// is held.
func (cp *ControlPlane) HeldUntil(licenseID string) time.Time {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	l := cp.record(licenseID)
	if l.heldBy == "" || time.Now().After(l.heldUntil) {
		return time.Time{}
	}
	return l.heldUntil
}

// Forget makes the control plane answer 404 for the licence.
func (cp *ControlPlane) Forget(licenseID string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.record(licenseID).forgotten = true
}

// BoundTo returns the fingerprint the licence is bound to, or "".
func (cp *ControlPlane) BoundTo(licenseID string) string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.record(licenseID).boundTo
}

// Received returns a copy of every request seen so far.
func (cp *ControlPlane) Received() []Received {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]Received(nil), cp.received...)
}

// Count returns how many requests of op ("activate", "heartbeat",
// "deactivate") were answered with a 200.
func (cp *ControlPlane) Count(op string) int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	n := 0
	for _, r := range cp.received {
		if r.Op == op && r.Answer == http.StatusOK {
			n++
		}
	}
	return n
}

func (cp *ControlPlane) setStatus(id, status string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.record(id).status = status
}

// record returns the licence's record, creating it. cp.mu must be held.
func (cp *ControlPlane) record(id string) *cpLicense {
	l := cp.licenses[id]
	if l == nil {
		l = &cpLicense{status: license.LeaseActive, activated: map[string]string{}}
		cp.licenses[id] = l
	}
	return l
}

// ServeHTTP answers POST /licenses/{id}/{activate|heartbeat|deactivate}.
// While the control plane is down it sends no answer at all: the
// connection is dropped, as when the host behind a listener is gone.
func (cp *ControlPlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cp.unanswered(r) {
		panic(http.ErrAbortHandler) // net/http drops the connection, and logs nothing
	}
	cp.serve(w, r)
}

// unanswered reports whether the control plane is down, and if so records
// the attempt with Answer 0 (no answer).
func (cp *ControlPlane) unanswered(r *http.Request) bool {
	cp.mu.Lock()
	down := cp.down
	cp.mu.Unlock()
	if down {
		_, op, _ := parsePath(r.URL.EscapedPath())
		cp.log(Received{Op: op, At: time.Now()})
	}
	return down
}

// serve answers one request (up or not: RoundTrip has checked).
func (cp *ControlPlane) serve(w http.ResponseWriter, r *http.Request) {
	// Every answer carries the control plane's clock, as a real server's
	// does (in RoundTripper mode no net/http server adds it).
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	id, op, ok := parsePath(r.URL.EscapedPath())
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "No such route")
		return
	}
	var body struct {
		Token          string `json:"token"`
		Fingerprint    string `json:"fingerprint"`
		IdempotencyKey string `json:"idempotency_key"`
		Nonce          string `json:"nonce"`
	}
	data, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	jsonErr := json.Unmarshal(data, &body)
	rec := Received{Op: op, LicenseID: id, Fingerprint: body.Fingerprint, IdempotencyKey: body.IdempotencyKey, At: time.Now()}

	cp.mu.Lock()
	var fault *Fault
	if len(cp.faults) > 0 {
		f := cp.faults[0]
		cp.faults = cp.faults[1:]
		fault = &f
	}
	cp.mu.Unlock()
	if fault != nil {
		rec.Answer = fault.Status
		cp.log(rec)
		serveFault(w, r, *fault)
		return
	}

	status, answer := cp.answer(op, id, body.Token, body.Fingerprint, body.IdempotencyKey, body.Nonce, jsonErr)
	rec.Answer = status
	cp.log(rec)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

func (cp *ControlPlane) log(rec Received) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.received = append(cp.received, rec)
}

// answer decides a device call.
func (cp *ControlPlane) answer(op, id, token, fpr, key, nonce string, jsonErr error) (int, any) {
	if jsonErr != nil || token == "" || fpr == "" {
		return errorBody(http.StatusBadRequest, "VALIDATION", "token and fingerprint are required")
	}
	lic, err := cp.verifier.Verify(token)
	if err != nil {
		return errorBody(http.StatusBadRequest, "VALIDATION", "invalid licence token: "+license.Code(err))
	}
	if lic.ID != id {
		return errorBody(http.StatusBadRequest, "VALIDATION", "token is for another licence")
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	l := cp.record(id)
	if l.forgotten {
		return errorBody(http.StatusNotFound, "NOT_FOUND", "License not found")
	}
	now := time.Now()
	switch op {
	case "activate":
		if l.status == license.LeaseRevoked {
			return errorBody(http.StatusForbidden, "REVOKED", "License revoked")
		}
		if key == "" {
			return errorBody(http.StatusBadRequest, "VALIDATION", "idempotency_key is required")
		}
		if prev, ok := l.activated[key]; ok && !sameMachine(fpr, prev) {
			return errorBody(http.StatusConflict, "CONFLICT", "Idempotency key reused for another machine")
		}
		if l.boundTo != "" && !sameMachine(fpr, l.boundTo) {
			return errorBody(http.StatusConflict, "CONFLICT", "License is bound to another machine")
		}
		if l.boundTo == "" && l.heldBy != "" && !now.After(l.heldUntil) && !sameMachine(fpr, l.heldBy) {
			// The machine that deactivated may still run offline on its
			// newest lease, up to and including its exp: the seat is its
			// own until then.
			return errorBody(http.StatusConflict, "CONFLICT",
				"License was deactivated on another machine; its seat is held until "+l.heldUntil.UTC().Format(time.RFC3339))
		}
		l.boundTo = fpr
		l.heldBy, l.heldUntil = "", time.Time{}
		l.activated[key] = fpr
	case "heartbeat":
		if !sameMachine(fpr, l.boundTo) {
			return errorBody(http.StatusConflict, "CONFLICT", "License is bound to another machine")
		}
		// Keep the newest matching fingerprint, so that changes one at a
		// time (a NIC this year, RAM next year) never add up to two.
		l.boundTo = fpr
	case "deactivate":
		if sameMachine(fpr, l.boundTo) {
			l.boundTo = ""
			l.heldBy, l.heldUntil = fpr, l.lastExp
		}
		return http.StatusOK, map[string]bool{"success": true}
	}
	iat, exp := l.leaseTimes(now, cp.grace)
	lease, err := cp.issuer.signLease(iat, exp, id, fpr, l.status, nonce)
	if err != nil {
		return errorBody(http.StatusInternalServerError, "INTERNAL", "signing failed")
	}
	l.lastIat, l.lastStatus, l.lastExp = iat, l.status, exp
	return http.StatusOK, map[string]any{
		"status":           l.status,
		"lease":            lease,
		"next_heartbeat_s": int64(cp.interval / time.Second),
		"server_time":      now.UTC().Format(time.RFC3339),
	}
}

// leaseTimes returns the iat and exp of the next lease for the licence,
// following the order products rely on: a lease counts only if its signed
// iat is strictly later than every lease the machine accepted. So
// successive leases have strictly increasing iat — the next second after
// the previous lease's if need be, even in the future — and a verdict
// (revoked, suspended, restored) is never lost to a lease of the same
// second. Twin leases cannot be banked and played back: each carries the
// nonce of the request it answers. exp is server time plus the grace
// window, never moved by that second.
func (l *cpLicense) leaseTimes(now time.Time, grace time.Duration) (iat, exp time.Time) {
	now = now.Truncate(time.Second)
	iat = now
	if !l.lastIat.IsZero() && !iat.After(l.lastIat) {
		iat = l.lastIat.Add(time.Second)
	}
	return iat, now.Add(grace)
}

// signLease signs a lease without failing the test: it runs on the
// control plane's goroutines, where t.Fatal must not be called.
func (i *Issuer) signLease(iat, exp time.Time, licenseID, fpr, status, nonce string) (string, error) {
	return i.mintLease(iat, exp, licenseID, fpr, status, nonce)
}

// sameMachine compares a fingerprint sent now with the recorded one, with
// the tolerance of fingerprint.Matches; strings that are not fingerprints
// (as tests may use) must be equal.
func sameMachine(sent, recorded string) bool {
	if recorded == "" {
		return false
	}
	fp, err := fingerprint.Parse(sent)
	if err != nil {
		return sent == recorded
	}
	return fp.Matches(recorded)
}

func parsePath(p string) (id, op string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/licenses/")
	if !ok {
		return "", "", false
	}
	id, op, ok = strings.Cut(rest, "/")
	if !ok || id == "" || strings.Contains(op, "/") {
		return "", "", false
	}
	switch op {
	case "activate", "heartbeat", "deactivate":
	default:
		return "", "", false
	}
	return id, op, true
}

func errorBody(status int, code, msg string) (int, any) {
	return status, map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	_, body := errorBody(status, code, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.Body != "" {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	writeError(w, status, "FAULT", "injected fault "+strconv.Itoa(status))
}
