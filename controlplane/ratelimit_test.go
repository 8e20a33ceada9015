package controlplane_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/heartbeat"
)

type observed struct {
	mu    sync.Mutex
	calls map[string][]int
}

func (o *observed) ObserveRequest(route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[route] = append(o.calls[route], status)
}

func TestRateLimitsAndObserver(t *testing.T) {
	obs := &observed{calls: map[string][]int{}}
	h := newHarness(t, func(c *controlplane.Config) {
		c.DeviceRateLimit = controlplane.RateLimit{PerSecond: 1, Burst: 2}
		c.AdminRateLimit = controlplane.RateLimit{PerSecond: 1, Burst: 3}
		c.Observer = obs
	})
	l := h.issue("ten_a", nil)
	other := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.beat(l, l.Primary, "fp"); err != nil {
		t.Fatal(err)
	}
	_, err := h.beat(l, l.Primary, "fp")
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 429 || he.RetryAfter != time.Second || !heartbeat.IsTransient(err) {
		t.Fatalf("third device call in a second: %v", err)
	}
	// Another licence has its own bucket; time refills this one.
	if _, err := h.activate(other, other.Primary, "fp2"); err != nil {
		t.Fatalf("other licence: %v", err)
	}
	h.clock.Add(time.Second)
	if _, err := h.beat(l, l.Primary, "fp"); err != nil {
		t.Fatalf("after a second: %v", err)
	}
	// The admin key spent two of its three on the issues; a second later
	// it has two, for two calls more.
	h.do("GET", "/licenses", adminSecret, nil)
	h.do("GET", "/licenses", adminSecret, nil)
	rec := h.do("GET", "/licenses", adminSecret, nil)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || errorCode(t, rec) != "RATE_LIMITED" {
		t.Fatalf("admin over the limit: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if got := obs.calls["POST /licenses/{id}/heartbeat"]; len(got) != 3 || got[1] != 429 {
		t.Fatalf("observer heard %v", got)
	}
	if got := obs.calls["GET /licenses"]; len(got) != 3 || got[0] != 200 || got[2] != 429 {
		t.Fatalf("observer heard %v", got)
	}
}
