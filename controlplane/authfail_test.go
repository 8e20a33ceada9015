package controlplane_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// failLimit is a harness whose failed authentications are limited to a
// burst of 3, then one a second.
func failLimit(t *testing.T) *harness {
	return newHarness(t, func(c *controlplane.Config) {
		c.AuthFailureLimit = controlplane.RateLimit{PerSecond: 1, Burst: 3}
	})
}

// callFrom sends GET /licenses from addr with the Authorization header
// auth ("" for none) and returns the status and Retry-After.
func (h *harness) callFrom(addr, auth string) (int, string) {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/licenses", nil)
	req.RemoteAddr = addr
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return rec.Code, rec.Header().Get("Retry-After")
}

// Failed secrets spend the address's budget; once it is spent, the good
// secret is refused too, from that address only, until a token is back.
func TestAuthFailuresThrottleTheAddress(t *testing.T) {
	h := failLimit(t)
	const a, b = "192.0.2.10:4000", "192.0.2.11:4000"
	good, bad := "Bearer "+adminSecret, "Bearer not-the-secret-0123456789"

	for i := range 10 { // no header guesses nothing and spends nothing
		if code, _ := h.callFrom(a, ""); code != http.StatusUnauthorized {
			t.Fatalf("no header %d: %d, want 401", i, code)
		}
	}
	for i := range 20 { // good secrets spend nothing
		if code, _ := h.callFrom(a, good); code != http.StatusOK {
			t.Fatalf("good secret %d: %d, want 200", i, code)
		}
	}
	for i := range 3 {
		if code, _ := h.callFrom(a, bad); code != http.StatusUnauthorized {
			t.Fatalf("bad secret %d: %d, want 401", i, code)
		}
	}
	if code, retry := h.callFrom(a, bad); code != http.StatusTooManyRequests || retry != "1" {
		t.Fatalf("fourth bad secret: %d Retry-After %q, want 429 and 1", code, retry)
	}
	if code, _ := h.callFrom(a, good); code != http.StatusTooManyRequests {
		t.Fatalf("good secret after the budget is spent: %d, want 429", code)
	}
	if code, _ := h.callFrom(a, "Bearer "); code != http.StatusTooManyRequests {
		t.Fatalf("empty bearer after the budget is spent: %d, want 429", code)
	}
	if code, _ := h.callFrom(b, good); code != http.StatusOK {
		t.Fatalf("another address: %d, want 200", code)
	}

	h.clock.Add(time.Second) // one token back
	if code, _ := h.callFrom(a, good); code != http.StatusOK {
		t.Fatalf("good secret a second later: %d, want 200", code)
	}
	if code, _ := h.callFrom(a, good); code != http.StatusOK {
		t.Fatalf("a good secret spends nothing: %d, want 200", code)
	}
	if code, _ := h.callFrom(a, bad); code != http.StatusUnauthorized {
		t.Fatalf("bad secret a second later: %d, want 401", code)
	}
	if code, _ := h.callFrom(a, good); code != http.StatusTooManyRequests {
		t.Fatalf("after that failure: %d, want 429", code)
	}
}

// An IPv6 client counts by its /64; an IPv4-mapped address as IPv4.
func TestAuthFailuresCountIPv6ByPrefix(t *testing.T) {
	h := failLimit(t)
	bad := "Bearer not-the-secret-0123456789"
	for _, addr := range []string{"[2001:db8::1]:1", "[2001:db8::2]:1", "[2001:db8::ffff:1]:1"} {
		if code, _ := h.callFrom(addr, bad); code != http.StatusUnauthorized {
			t.Fatalf("%s: %d, want 401", addr, code)
		}
	}
	if code, _ := h.callFrom("[2001:db8::9]:1", "Bearer "+adminSecret); code != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d, want 429", code)
	}
	if code, _ := h.callFrom("[2001:db8:0:1::1]:1", "Bearer "+adminSecret); code != http.StatusOK {
		t.Fatalf("another /64: %d, want 200", code)
	}
	for range 3 {
		h.callFrom("[::ffff:192.0.2.7]:1", bad)
	}
	if code, _ := h.callFrom("192.0.2.7:1", "Bearer "+adminSecret); code != http.StatusTooManyRequests {
		t.Fatalf("IPv4 after its mapped form failed: %d, want 429", code)
	}
}

// The console's sign-in spends the same budget and says why it refuses,
// without making a session.
func TestAuthFailuresThrottleConsoleSignIn(t *testing.T) {
	h := failLimit(t)
	b := &browser{t: t, h: h}
	for range 3 {
		wantPage(t, "bad secret", b.tryLogin("not-the-secret-0123456789"), http.StatusUnauthorized, "That API key is not valid")
	}
	p := b.tryLogin(adminSecret)
	wantPage(t, "good secret after three failures", p, http.StatusTooManyRequests, "Too many failed sign-ins from your address")
	if p.hdr.Get("Retry-After") == "" {
		t.Error("no Retry-After on the refused sign-in")
	}
	if b.cookie != nil {
		t.Fatal("a refused sign-in made a session")
	}
	// The API shares the budget: the console's failures stopped it too.
	if code, _ := h.callFrom("192.0.2.1:1234", "Bearer "+adminSecret); code != http.StatusTooManyRequests {
		t.Fatalf("the API after the console's failures: %d, want 429", code)
	}
	h.clock.Add(time.Second)
	if p := b.tryLogin(adminSecret); p.code != http.StatusSeeOther || b.cookie == nil {
		t.Fatalf("sign-in a second later: %d, want 303 and a session", p.code)
	}
}

// A negative PerSecond turns the limit off; the default is on.
func TestAuthFailureLimitOffAndDefault(t *testing.T) {
	off := newHarness(t) // the harness turns it off
	for i := range 200 {
		if code, _ := off.callFrom("192.0.2.1:1", "Bearer wrong-secret-0123456789"); code != http.StatusUnauthorized {
			t.Fatalf("limit off, failure %d: %d, want 401", i, code)
		}
	}
	def := newHarness(t, func(c *controlplane.Config) { c.AuthFailureLimit = controlplane.RateLimit{} })
	n := 0
	for ; n < 100; n++ {
		if code, _ := def.callFrom("192.0.2.1:1", "Bearer wrong-secret-0123456789"); code == http.StatusTooManyRequests {
			break
		}
	}
	if n != controlplane.DefaultAuthFailureLimit.Burst {
		t.Fatalf("the default limit refused after %d failures, want %d", n, controlplane.DefaultAuthFailureLimit.Burst)
	}
}
