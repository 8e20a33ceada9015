package heartbeat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/heartbeat"
)

func TestClientRequestShape(t *testing.T) {
	cp := &fakeCP{}
	c := newClient(cp)
	c.UserAgent = "acme/2"
	r := req1
	r.LicenseID = "lic/../x y?z#"
	ctx := context.Background()

	resp, err := c.Activate(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, heartbeat.StatusActive, resp.Status)
	assert.Equal(t, "eyJ.lease.sig", resp.Lease)
	assert.Equal(t, time.Hour, resp.NextHeartbeat)
	assert.False(t, resp.ServerTime.IsZero())
	_, err = c.Heartbeat(ctx, r)
	require.NoError(t, err)
	require.NoError(t, c.Deactivate(ctx, r))

	calls := cp.Calls()
	require.Len(t, calls, 3)
	nonces := map[string]bool{}
	for i, op := range []string{"activate", "heartbeat", "deactivate"} {
		got := calls[i]
		nonce := got.Body["nonce"]
		assert.Len(t, nonce, 26, "every call carries a fresh nonce")
		assert.False(t, nonces[nonce], "nonce %q sent twice", nonce)
		nonces[nonce] = true
		assert.Equal(t, http.MethodPost, got.Method)
		assert.Equal(t, "/api/licenses/lic%2F..%2Fx%20y%3Fz%23/"+op, got.Path, "licence ID is path-escaped")
		assert.Equal(t, op, got.Op)
		assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
		assert.Equal(t, "acme/2", got.Header.Get("User-Agent"))
		assert.Equal(t, r.Token, got.Body["token"])
		assert.Equal(t, r.Fingerprint, got.Body["fingerprint"])
		if op == "activate" {
			assert.Equal(t, "idem-1", got.Header.Get("Idempotency-Key"))
			assert.Equal(t, "idem-1", got.Body["idempotency_key"])
		} else {
			assert.Empty(t, got.Header.Get("Idempotency-Key"))
			assert.NotContains(t, got.Body, "idempotency_key")
		}
	}
}

// A caller's own nonce is sent as given and reported back with the answer,
// so that the lease answering it can be told from a replayed one.
func TestClientNonce(t *testing.T) {
	cp := &fakeCP{}
	c := newClient(cp)
	ctx := context.Background()
	r := req1

	r.Nonce = "mine-1"
	resp, err := c.Heartbeat(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, "mine-1", resp.Nonce)
	assert.Equal(t, "mine-1", cp.Calls()[0].Body["nonce"])

	r.Nonce = ""
	resp, err = c.Heartbeat(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, cp.Calls()[1].Body["nonce"], resp.Nonce, "a drawn nonce is the one reported")

	for _, bad := range []string{strings.Repeat("n", 65), "with space", "tab\t", "é"} {
		r.Nonce = bad
		_, err = c.Heartbeat(ctx, r)
		assert.ErrorIs(t, err, heartbeat.ErrConfig, "nonce %q", bad)
	}
	assert.Len(t, cp.Calls(), 2, "a bad nonce is not sent")
}

func TestClientStatusTable(t *testing.T) {
	cases := []struct {
		name       string
		reply      reply
		want       error
		definitive bool
	}{
		{"404 envelope", fail(404, "NOT_FOUND"), heartbeat.ErrUnknownLicense, true},
		{"404 proxy page", reply{status: 404, body: "<html>not found</html>"}, heartbeat.ErrRejected, true},
		{"409 conflict", fail(409, "CONFLICT"), heartbeat.ErrBoundElsewhere, true},
		{"409 other code", fail(409, "IDEMPOTENCY_MISMATCH"), heartbeat.ErrRejected, true},
		{"403 revoked", fail(403, "REVOKED"), heartbeat.ErrRevoked, true},
		{"403 suspended", fail(403, "SUSPENDED"), heartbeat.ErrSuspended, true},
		{"403 forbidden", fail(403, "FORBIDDEN"), heartbeat.ErrRejected, true},
		{"400 validation", fail(400, "VALIDATION"), heartbeat.ErrRejected, true},
		{"400 key replaced", fail(400, "KEY_REPLACED"), heartbeat.ErrKeyReplaced, true},
		{"409 with the key-replaced code", fail(409, "KEY_REPLACED"), heartbeat.ErrRejected, true},
		{"401", fail(401, "UNAUTHENTICATED"), heartbeat.ErrRejected, true},
		{"410", reply{status: 410}, heartbeat.ErrRejected, true},
		{"501", fail(501, "INTERNAL"), heartbeat.ErrRejected, true},
		{"408", reply{status: 408}, heartbeat.ErrUnavailable, false},
		{"429", fail(429, "RATE_LIMITED"), heartbeat.ErrUnavailable, false},
		{"500", fail(500, "INTERNAL"), heartbeat.ErrUnavailable, false},
		{"502 html", reply{status: 502, body: "<html>bad gateway"}, heartbeat.ErrUnavailable, false},
		{"503", reply{status: 503}, heartbeat.ErrUnavailable, false},
		{"599", reply{status: 599}, heartbeat.ErrUnavailable, false},
		{"302 captive portal", reply{status: 302, header: map[string]string{"Location": "http://portal/"}}, heartbeat.ErrUnavailable, false},
		{"1xx-like 199", reply{status: 199}, heartbeat.ErrUnavailable, false},
		{"network error", reply{err: errors.New("connection refused")}, heartbeat.ErrUnavailable, false},
		{"200 html", reply{status: 200, body: "<html>login</html>"}, heartbeat.ErrUnavailable, false},
		{"200 unknown status", reply{status: 200, body: `{"status":"weird","lease":"x"}`}, heartbeat.ErrUnavailable, false},
		{"200 no lease", reply{status: 200, body: `{"status":"active"}`}, heartbeat.ErrUnavailable, false},
		{"200 null", reply{status: 200, body: `null`}, heartbeat.ErrUnavailable, false},
		{"200 wrong type", reply{status: 200, body: `{"status":"active","lease":"x","next_heartbeat_s":"60"}`}, heartbeat.ErrUnavailable, false},
		{"200 trailing garbage", reply{status: 200, body: `{"status":"active","lease":"x"} {}`}, heartbeat.ErrUnavailable, false},
		{"204 empty", reply{status: 204}, heartbeat.ErrUnavailable, false},
		{"200 oversized", reply{status: 200, body: bigJSON(1 << 20)}, heartbeat.ErrUnavailable, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := &fakeCP{answer: func(int, call) reply { return tc.reply }}
			_, err := newClient(cp).Heartbeat(context.Background(), req1)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.definitive, heartbeat.IsDefinitive(err), "IsDefinitive")
			assert.Equal(t, !tc.definitive, heartbeat.IsTransient(err), "IsTransient")
			assert.NotErrorIs(t, err, heartbeat.ErrConfig)
			var he *heartbeat.Error
			require.ErrorAs(t, err, &he)
			assert.Equal(t, "heartbeat", he.Op)
			assert.Equal(t, tc.reply.status, he.StatusCode)
			assert.True(t, strings.HasPrefix(err.Error(), "heartbeat: "), err.Error())
			assert.NotContains(t, err.Error(), req1.Token, "no token in errors")
			if tc.reply.status == 200 {
				assert.ErrorIs(t, err, heartbeat.ErrBadResponse)
			}
			// Only the control plane's 400 KEY_REPLACED says the key was
			// replaced, and it is a refusal like any other 400.
			assert.Equal(t, tc.name == "400 key replaced", errors.Is(err, heartbeat.ErrKeyReplaced), "ErrKeyReplaced")
			if errors.Is(err, heartbeat.ErrKeyReplaced) {
				assert.ErrorIs(t, err, heartbeat.ErrRejected)
			}
		})
	}
}

func TestClientSuccessFields(t *testing.T) {
	cases := []struct {
		body       string
		next       time.Duration
		serverTime bool
	}{
		{`{"status":"suspended","lease":"L","next_heartbeat_s":60,"server_time":"2026-01-02T03:04:05Z"}`, time.Minute, true},
		{`{"status":"revoked","lease":"L"}`, 0, false},
		{`{"status":"active","lease":"L","next_heartbeat_s":-5,"server_time":"yesterday"}`, 0, false},
		{`{"status":"active","lease":"L","next_heartbeat_s":1.5e300}`, 365 * 24 * time.Hour, false},
		{`{"status":"active","lease":"L","next_heartbeat_s":0.25,"extra":{"ignored":true}}`, 250 * time.Millisecond, false},
	}
	for _, tc := range cases {
		cp := &fakeCP{answer: func(int, call) reply { return reply{status: 200, body: tc.body} }}
		resp, err := newClient(cp).Heartbeat(context.Background(), req1)
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.next, resp.NextHeartbeat, tc.body)
		assert.Equal(t, tc.serverTime, !resp.ServerTime.IsZero(), tc.body)
	}
}

func TestClientRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now() // fake: 2000-01-01 UTC in the bubble
		date := func(d time.Duration) string { return now.Add(d).UTC().Format(http.TimeFormat) }
		const week = 7 * 24 * time.Hour
		cases := []struct {
			name   string
			header []string
			want   time.Duration
		}{
			{"seconds", []string{"Retry-After", "120"}, 120 * time.Second},
			{"seconds with spaces", []string{"Retry-After", " 7 "}, 7 * time.Second},
			{"zero", []string{"Retry-After", "0"}, 0},
			{"huge seconds", []string{"Retry-After", "99999999999999999999999999"}, week},
			{"just over a week", []string{"Retry-After", "604801"}, week},
			{"negative", []string{"Retry-After", "-5"}, 0},
			{"fraction", []string{"Retry-After", "1.5"}, 0},
			{"garbage", []string{"Retry-After", "soon, promise"}, 0},
			{"date, local clock", []string{"Retry-After", date(90 * time.Second)}, 90 * time.Second},
			{"date in the past", []string{"Retry-After", date(-time.Hour)}, 0},
			{"date far ahead", []string{"Retry-After", date(10 * 365 * 24 * time.Hour)}, week},
			{"date against server Date", []string{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT", "Date", "Sun, 06 Nov 1994 08:48:37 GMT"}, time.Minute},
			{"RFC 850 date", []string{"Retry-After", "Sunday, 06-Nov-94 08:49:37 GMT", "Date", "Sun, 06 Nov 1994 08:49:07 GMT"}, 30 * time.Second},
			{"absent", nil, 0},
		}
		for _, tc := range cases {
			cp := &fakeCP{answer: func(int, call) reply { return fail(503, "INTERNAL", tc.header...) }}
			_, err := newClient(cp).Heartbeat(context.Background(), req1)
			var he *heartbeat.Error
			require.ErrorAs(t, err, &he, tc.name)
			assert.Equal(t, tc.want, he.RetryAfter, tc.name)
		}
	})
}

func TestClientBodiesLimitedDrainedClosed(t *testing.T) {
	cases := []struct {
		name     string
		reply    reply
		maxRead  int
		fullRead bool
	}{
		{"small success", ok(60), 0, true},
		{"small error", fail(404, "NOT_FOUND"), 0, true},
		{"medium error, drained past the limit", reply{status: 500, body: strings.Repeat("x", 40<<10)}, 0, true},
		{"huge success", reply{status: 200, body: bigJSON(10 << 20)}, 200 << 10, false},
		{"huge error", reply{status: 500, body: strings.Repeat("x", 10<<20)}, 200 << 10, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := &fakeCP{answer: func(int, call) reply { return tc.reply }}
			_, _ = newClient(cp).Heartbeat(context.Background(), req1)
			bodies := cp.Bodies()
			require.Len(t, bodies, 1)
			read, closed := bodies[0].state()
			assert.True(t, closed, "body closed")
			if tc.fullRead {
				assert.Equal(t, bodies[0].size, read, "small body drained")
			} else {
				assert.LessOrEqual(t, read, tc.maxRead, "huge body read only up to a bound")
			}
		})
	}
}

func TestClientContext(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		cp := &fakeCP{answer: func(int, call) reply { return reply{hang: true} }}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(cp).Heartbeat(ctx, req1)
		assert.ErrorIs(t, err, heartbeat.ErrUnavailable)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cp := &fakeCP{answer: func(int, call) reply { return reply{hang: true} }}
			c := newClient(cp)
			for _, tc := range []struct{ set, want time.Duration }{{0, heartbeat.DefaultTimeout}, {2 * time.Second, 2 * time.Second}} {
				c.Timeout = tc.set
				start := time.Now()
				_, err := c.Activate(context.Background(), req1)
				assert.ErrorIs(t, err, heartbeat.ErrUnavailable)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, tc.want, time.Since(start))
			}
		})
	})
}

func TestClientConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		base string
		mod  func(*heartbeat.Request)
	}{
		{"empty base", "", nil},
		{"relative base", "/api", nil},
		{"ftp base", "ftp://cp.example", nil},
		{"base with query", "https://cp.example/?a=b", nil},
		{"base with fragment", "https://cp.example/#x", nil},
		{"empty licence", "", func(r *heartbeat.Request) { r.LicenseID = "" }},
		{"dot licence", "", func(r *heartbeat.Request) { r.LicenseID = "." }},
		{"dotdot licence", "", func(r *heartbeat.Request) { r.LicenseID = ".." }},
		{"long licence", "", func(r *heartbeat.Request) { r.LicenseID = strings.Repeat("a", 300) }},
		{"no token", "", func(r *heartbeat.Request) { r.Token = "" }},
		{"no fingerprint", "", func(r *heartbeat.Request) { r.Fingerprint = "" }},
		{"no idempotency key", "", func(r *heartbeat.Request) { r.IdempotencyKey = "" }},
		{"idempotency key with newline", "", func(r *heartbeat.Request) { r.IdempotencyKey = "a\r\nX-Evil: 1" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cp := &fakeCP{}
			c := newClient(cp)
			if tc.mod == nil {
				c.BaseURL = tc.base
			}
			r := req1
			if tc.mod != nil {
				tc.mod(&r)
			}
			_, err := c.Activate(context.Background(), r)
			assert.ErrorIs(t, err, heartbeat.ErrConfig)
			assert.False(t, heartbeat.IsDefinitive(err))
			assert.False(t, heartbeat.IsTransient(err))
			assert.Empty(t, cp.Calls(), "nothing sent")
		})
	}
	var nilClient *heartbeat.Client
	_, err := nilClient.Heartbeat(context.Background(), req1)
	assert.ErrorIs(t, err, heartbeat.ErrConfig)
	//lint:ignore SA1012 testing the nil-context guard
	_, err = newClient(&fakeCP{}).Heartbeat(nil, req1)
	assert.ErrorIs(t, err, heartbeat.ErrConfig)
}

// The default HTTP client must not follow a redirect: the licence token
// is not re-sent to wherever a 3xx points. Real sockets, outside synctest.
func TestClientDefaultHTTPClientNoRedirect(t *testing.T) {
	var followed bool
	mux := http.NewServeMux()
	mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { followed = true })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &heartbeat.Client{BaseURL: srv.URL}
	defer c.CloseIdleConnections()
	_, err := c.Heartbeat(context.Background(), req1)
	assert.ErrorIs(t, err, heartbeat.ErrUnavailable)
	assert.ErrorIs(t, err, heartbeat.ErrBadResponse)
	assert.False(t, followed, "redirect followed")
}

func TestNewIdempotencyKey(t *testing.T) {
	a, b := heartbeat.NewIdempotencyKey(), heartbeat.NewIdempotencyKey()
	assert.Len(t, a, 26)
	assert.NotEqual(t, a, b)
	cp := &fakeCP{}
	r := req1
	r.IdempotencyKey = a
	_, err := newClient(cp).Activate(context.Background(), r)
	require.NoError(t, err)
}

// A refusal carries the server's Date, so the manager can order it after
// the leases that preceded it; a missing or broken Date gives zero.
func TestClientErrorDate(t *testing.T) {
	cases := []struct {
		name   string
		header []string
		want   time.Time
	}{
		{"IMF-fixdate", []string{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}, time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"RFC 850", []string{"Date", "Sunday, 06-Nov-94 08:49:37 GMT"}, time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{"garbage", []string{"Date", "yesterday"}, time.Time{}},
		{"absent", nil, time.Time{}},
	}
	for _, tc := range cases {
		cp := &fakeCP{answer: func(int, call) reply { return fail(403, "REVOKED", tc.header...) }}
		_, err := newClient(cp).Heartbeat(context.Background(), req1)
		var he *heartbeat.Error
		require.ErrorAs(t, err, &he, tc.name)
		require.ErrorIs(t, err, heartbeat.ErrRevoked, tc.name)
		assert.True(t, tc.want.Equal(he.Date), "%s: Date = %v, want %v", tc.name, he.Date, tc.want)
	}
}
