package licensetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/license"
)

// ControlPlane is the reference control plane ([controlplane.Server] over
// an in-memory [memstore.Store]) set up for tests: it signs with its
// [Issuer]'s keys, knows the licences the Issuer mints, and lets the test
// take it down, inject faults and drive it as a vendor admin would. The
// device calls (activate, heartbeat, deactivate) are answered by the real
// server, so a test and production cannot disagree on what they mean. Use
// it two ways:
//
//   - as an [http.RoundTripper] (see [ControlPlane.Client] and
//     [ControlPlane.URL]): no sockets, so it works inside a
//     testing/synctest bubble, where real sockets would stall fake time;
//   - as an [http.Handler] behind [ControlPlane.NewServer]'s
//     httptest.Server, for tests that want a real listener.
//
// It is safe for concurrent use. The server reads the time through
// time.Now and starts no goroutine, so inside a synctest bubble the
// bubble's fake clock applies — make the ControlPlane in the bubble that
// uses it. Rate limits are off.
type ControlPlane struct {
	issuer   *Issuer
	srv      *controlplane.Server
	store    *memstore.Store
	admin    string            // the bearer secret of its super_admin key
	verifier *license.Verifier // the issuer's keys that the server also has

	learnMu   sync.Mutex
	forgotten map[string]bool // licences Forget made unknown for good

	mu       sync.Mutex
	down     bool
	faults   []Fault
	received []Received
}

// Received is one request the control plane saw.
type Received struct {
	// Op is "activate", "heartbeat" or "deactivate" for a device call, and
	// the method and path ("GET /.well-known/jwks.json") for anything else.
	Op             string
	LicenseID      string
	Fingerprint    string
	IdempotencyKey string
	At             time.Time
	Answer         int // the HTTP status it answered with; 0 while down
}

// Fault is an answer to force on the next request(s) instead of the real
// one; see [ControlPlane.Fail].
type Fault struct {
	// Status is the HTTP status to answer, e.g. 500, 503 or 429 (0 means
	// 503).
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

// Defaults of a [ControlPlane]: the reference control plane's.
const (
	DefaultGrace    = controlplane.DefaultGrace
	DefaultInterval = controlplane.DefaultHeartbeatInterval
)

// baseURL is the address a ControlPlane answers at through its RoundTripper.
const baseURL = "http://licensetest.invalid"

// maxBody is the most of a request body the control plane reads; the
// server refuses far smaller device bodies anyway.
const maxBody = 1 << 20

// ErrDown is the transport error a down control plane answers with.
var ErrDown = errors.New("licensetest: control plane is down")

// URL is the base URL to configure a product with when it talks to the
// control plane through [ControlPlane.Client] or the ControlPlane itself as
// transport.
func (cp *ControlPlane) URL() string { return baseURL }

// Client returns an HTTP client whose transport is the control plane, in
// memory.
func (cp *ControlPlane) Client() *http.Client { return &http.Client{Transport: cp} }

// Configure points a product's Config at the control plane in memory:
// ServerURL becomes [ControlPlane.URL] and HTTPClient [ControlPlane.Client].
// [Issuer.Configure] does the offline part.
func (cp *ControlPlane) Configure(cfg *license.Config) {
	cfg.ServerURL, cfg.HTTPClient = cp.URL(), cp.Client()
}

// NewServer starts an httptest.Server in front of the control plane and
// closes it when the issuer's test ends. Configure the product with its URL.
func (cp *ControlPlane) NewServer() *httptest.Server {
	srv := httptest.NewServer(cp)
	cp.issuer.t.Cleanup(srv.Close)
	return srv
}

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

// ServeHTTP answers a request. While the control plane is down it sends no
// answer at all: the connection is dropped, as when the host behind a
// listener is gone.
func (cp *ControlPlane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if cp.unanswered(r) {
		panic(http.ErrAbortHandler) // net/http drops the connection, and logs nothing
	}
	cp.serve(w, r)
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
// before the server's answers resume.
func (cp *ControlPlane) Fail(faults ...Fault) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.faults = append(cp.faults, faults...)
}

// Received returns a copy of every request seen so far (the test's own
// admin calls through Suspend, Revoke and the like are not requests).
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

// unanswered reports whether the control plane is down, and if so records
// the attempt with Answer 0 (no answer).
func (cp *ControlPlane) unanswered(r *http.Request) bool {
	cp.mu.Lock()
	down := cp.down
	cp.mu.Unlock()
	if down {
		id, op := describe(r)
		cp.log(Received{Op: op, LicenseID: id, At: time.Now()})
	}
	return down
}

// serve answers one request (up or not: the caller has checked): a queued
// fault, or the server's answer.
func (cp *ControlPlane) serve(w http.ResponseWriter, r *http.Request) {
	// Every answer carries the control plane's clock, as a real server's
	// does behind net/http (in RoundTripper mode nothing else adds it).
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var data []byte
	if r.Body != nil {
		data, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
	}
	id, op := describe(r)
	var body struct {
		Token          string `json:"token"`
		Fingerprint    string `json:"fingerprint"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	_ = json.Unmarshal(data, &body) // for the record only; the server reads the body itself
	rec := Received{Op: op, LicenseID: id, Fingerprint: body.Fingerprint, IdempotencyKey: body.IdempotencyKey, At: time.Now()}
	if rec.IdempotencyKey == "" {
		rec.IdempotencyKey = r.Header.Get("Idempotency-Key")
	}

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
		if rec.Answer == 0 {
			rec.Answer = http.StatusServiceUnavailable
		}
		cp.log(rec)
		serveFault(w, r, *fault)
		return
	}

	if id != "" && body.Token != "" {
		cp.learn(r.Context(), id, body.Token)
	}
	fwd := r.Clone(r.Context())
	fwd.Body = io.NopCloser(bytes.NewReader(data))
	fwd.ContentLength = int64(len(data))
	sw := &statusWriter{ResponseWriter: w}
	cp.srv.ServeHTTP(sw, fwd)
	rec.Answer = sw.status
	if rec.Answer == 0 {
		rec.Answer = http.StatusOK
	}
	cp.log(rec)
}

func (cp *ControlPlane) log(rec Received) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.received = append(cp.received, rec)
}

// describe names a request for [Received]: the licence id and device op of
// POST /licenses/{id}/{activate|heartbeat|deactivate}, else no id and the
// method and path.
func describe(r *http.Request) (id, op string) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/licenses/")
	if ok && r.Method == http.MethodPost {
		if id, op, ok := strings.Cut(rest, "/"); ok && id != "" {
			switch op {
			case "activate", "heartbeat", "deactivate":
				return id, op
			}
		}
	}
	return "", r.Method + " " + r.URL.Path
}

// statusWriter remembers the status the server wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
		"code": "FAULT", "message": "injected fault " + strconv.Itoa(status)}})
}
