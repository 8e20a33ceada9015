package heartbeat

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestTimingNormalised(t *testing.T) {
	cases := []struct {
		name                          string
		in                            [5]time.Duration // interval, min, max, base, bmax
		interval, lo, hi, base, bmaxW time.Duration
	}{
		{"zero", [5]time.Duration{}, time.Hour, 30 * time.Second, 24 * time.Hour, time.Second, 5 * time.Minute},
		{"negative", [5]time.Duration{-1, -1, -1, -1, -1}, time.Hour, 30 * time.Second, 24 * time.Hour, time.Second, 5 * time.Minute},
		{"max below min", [5]time.Duration{0, time.Hour, time.Minute, 0, 0}, time.Hour, time.Hour, time.Hour, time.Second, 5 * time.Minute},
		{"interval outside", [5]time.Duration{48 * time.Hour, 0, 0, 0, 0}, 24 * time.Hour, 30 * time.Second, 24 * time.Hour, time.Second, 5 * time.Minute},
		{"backoff above max", [5]time.Duration{0, 0, 10 * time.Minute, time.Hour, 2 * time.Hour}, 10 * time.Minute, 30 * time.Second, 10 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"bmax below base", [5]time.Duration{0, 0, 0, time.Minute, time.Second}, time.Hour, 30 * time.Second, 24 * time.Hour, time.Minute, time.Minute},
	}
	for _, tc := range cases {
		tm := newTiming(tc.in[0], tc.in[1], tc.in[2], tc.in[3], tc.in[4], nil)
		got := [5]time.Duration{tm.interval, tm.min, tm.max, tm.base, tm.bmax}
		want := [5]time.Duration{tc.interval, tc.lo, tc.hi, tc.base, tc.bmaxW}
		if got != want {
			t.Errorf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

func TestBackoffNeverOverflows(t *testing.T) {
	for _, r := range []float64{0, 0.5, 1, math.NaN(), math.Inf(1), -3} {
		tm := newTiming(0, 0, math.MaxInt64, time.Second, math.MaxInt64, func() float64 { return r })
		prevCeil := time.Duration(0)
		for n := 1; n < 200; n++ {
			d := tm.backoff(n)
			if d < tm.base/2 || d > tm.bmax {
				t.Fatalf("rand %v, n %d: backoff %v outside [%v, %v]", r, n, d, tm.base/2, tm.bmax)
			}
			if r == 1 && d < prevCeil {
				t.Fatalf("n %d: ceiling went down: %v < %v", n, d, prevCeil)
			}
			prevCeil = d
		}
	}
}

func TestRedact(t *testing.T) {
	tok := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJl"
	got := redact(tok)
	if strings.Contains(got, tok[6:]) || !strings.HasPrefix(got, "eyJhbG") || !strings.Contains(got, "56 bytes") {
		t.Errorf("redact(token) = %q", got)
	}
	if got := redact("short"); got != "[5 bytes]" {
		t.Errorf("redact(short) = %q", got)
	}
}

// FuzzParseResponse feeds arbitrary answers to the parser: it must never
// panic, and whatever it returns must hold the documented invariants.
func FuzzParseResponse(f *testing.F) {
	f.Add(200, "", "", []byte(`{"status":"active","lease":"a.b.c","next_heartbeat_s":3600,"server_time":"2026-01-01T00:00:00Z"}`), false)
	f.Add(200, "", "", []byte(`{"status":"active","lease":"x","next_heartbeat_s":1e308}`), false)
	f.Add(200, "", "", []byte(`{"status":"active","lease":"x","next_heartbeat_s":-1e308}`), false)
	f.Add(200, "", "", []byte(`{"status":"revoked","lease":""}`), false)
	f.Add(200, "", "", []byte(`[1,2,3]`), true)
	f.Add(404, "", "", []byte(`{"error":{"code":"NOT_FOUND","message":"License not found"}}`), false)
	f.Add(403, "", "", []byte(`{"error":{"code":"REVOKED","message":"\u0000\u001b[31m"}}`), false)
	f.Add(409, "", "", []byte(`{"error":null}`), false)
	f.Add(503, "120", "", []byte(``), false)
	f.Add(503, "99999999999999999999999999999", "", []byte(`{}`), false)
	f.Add(429, "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:48:37 GMT", []byte(`x`), false)
	f.Add(429, "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", []byte(`x`), false)
	f.Add(302, "", "", []byte(`<html>`), false)
	f.Add(-1, "-1", "garbage", []byte{0xff, 0xfe}, false)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []error{ErrUnknownLicense, ErrBoundElsewhere, ErrRevoked, ErrSuspended, ErrRejected, ErrUnavailable}
	f.Add(200, "", "", []byte(`{"status":"active","lease":"a.b.c","license_key":"k.k.k","keyset":"s.s.s"}`), false)
	f.Fuzz(func(t *testing.T, status int, ra, date string, body []byte, tooBig bool) {
		h := http.Header{}
		h.Set("Retry-After", ra)
		h.Set("Date", date)
		for _, op := range []string{OpActivate, OpHeartbeat, opDeactivate} {
			resp, err := parseResponse(op, status, h, body, tooBig, now)
			if err == nil {
				if status < 200 || status > 299 {
					t.Fatalf("status %d accepted", status)
				}
				if op == opDeactivate {
					continue
				}
				switch {
				case resp == nil, resp.Lease == "",
					resp.Status != StatusActive && resp.Status != StatusSuspended && resp.Status != StatusRevoked,
					resp.NextHeartbeat < 0, resp.NextHeartbeat > maxNextHeartbeat:
					t.Fatalf("bad response accepted: %+v", resp)
				}
				continue
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %v", err)
			}
			n := 0
			for _, k := range kinds {
				if errors.Is(err, k) {
					n++
				}
			}
			if n != 1 || IsDefinitive(err) == IsTransient(err) {
				t.Fatalf("error matches %d kinds: %v", n, err)
			}
			if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
				t.Fatalf("Retry-After out of range: %v", e.RetryAfter)
			}
			if len(e.Message) > maxMessage+len("…") || len(e.Code) > maxCode+len("…") {
				t.Fatalf("server strings not clipped: %q %q", e.Code, e.Message)
			}
			_ = err.Error()
		}
	})
}
