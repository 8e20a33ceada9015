package controlplane_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/heartbeat"
)

func withCache(ttl time.Duration) func(*controlplane.Config) {
	return func(c *controlplane.Config) { c.LicenseCacheTTL = ttl }
}

// With the licence cache on, every change made through the server reaches
// the very next heartbeat: each case beats once (filling the cache), makes
// the change, and checks the next beat.
func TestLicenseCacheSeesEveryChange(t *testing.T) {
	cases := []struct {
		name   string
		change func(h *harness, l lic)
		check  func(resp *heartbeat.Response, err error) string
	}{
		{"revoke", func(h *harness, l lic) { h.must(200, "POST", "/licenses/"+l.ID+"/revoke", adminSecret, nil) },
			wantStatus("revoked")},
		{"suspend", func(h *harness, l lic) { h.must(200, "POST", "/licenses/"+l.ID+"/suspend", adminSecret, nil) },
			wantStatus("suspended")},
		{"restore", func(h *harness, l lic) {
			h.must(200, "POST", "/licenses/"+l.ID+"/suspend", adminSecret, nil)
			if resp, err := h.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "suspended" {
				h.t.Fatalf("beat while suspended: %+v %v", resp, err)
			}
			h.must(200, "POST", "/licenses/"+l.ID+"/restore", adminSecret, nil)
		}, wantStatus("active")},
		{"rebind", func(h *harness, l lic) {
			h.must(200, "POST", "/licenses/"+l.ID+"/rebind", adminSecret, map[string]any{"fingerprint": "fp-B"})
		}, wantErr(heartbeat.ErrBoundElsewhere)},
		{"delete", func(h *harness, l lic) { h.must(200, "DELETE", "/licenses/"+l.ID, adminSecret, nil) },
			wantErr(heartbeat.ErrUnknownLicense)},
		{"deactivate", func(h *harness, l lic) {
			if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
				h.t.Fatal(err)
			}
		}, wantErr(heartbeat.ErrBoundElsewhere)},
		{"directives", func(h *harness, l lic) {
			h.must(200, "PUT", "/licenses/"+l.ID+"/directives", adminSecret, map[string]any{"heartbeat_interval": "2h"})
		}, func(resp *heartbeat.Response, err error) string {
			if err != nil || resp.NextHeartbeat != 2*time.Hour {
				return "want next heartbeat in 2h"
			}
			return ""
		}},
		{"expiry and sweep", func(h *harness, l lic) {
			h.clock.Add(400 * 24 * time.Hour)
			h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)
		}, wantErr(heartbeat.ErrRejected)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, withCache(time.Hour))
			l := h.issue("ten_a", nil)
			if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
				t.Fatal(err)
			}
			if resp, err := h.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "active" {
				t.Fatalf("first beat: %+v %v", resp, err)
			}
			c.change(h, l)
			resp, err := h.beat(l, l.Primary, "fp-A")
			if msg := c.check(resp, err); msg != "" {
				t.Fatalf("beat after %s: %+v, %v: %s", c.name, resp, err, msg)
			}
		})
	}
}

func wantStatus(s string) func(*heartbeat.Response, error) string {
	return func(resp *heartbeat.Response, err error) string {
		if err != nil || resp.Status != s {
			return "want status " + s
		}
		return ""
	}
}

func wantErr(target error) func(*heartbeat.Response, error) string {
	return func(_ *heartbeat.Response, err error) string {
		if !errors.Is(err, target) {
			return "want " + target.Error()
		}
		return ""
	}
}

// Another server on the same store (another process) changes the licence:
// this server's heartbeats see it once the cached copy is older than the
// TTL, and not before.
func TestLicenseCacheTTLBoundsWhatAnotherProcessChanges(t *testing.T) {
	a := newHarness(t, withCache(10*time.Second))
	b := &harness{t: t, store: a.store, clock: a.clock}
	srv, err := controlplane.New(context.Background(), controlplane.Config{Store: a.store, Issuer: issuer,
		AdminKey: adminSecret, Clock: a.clock.Now, SecretKey: bytesOf(7),
		DeviceRateLimit: controlplane.RateLimit{PerSecond: -1}, AdminRateLimit: controlplane.RateLimit{PerSecond: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b.srv = srv

	l := a.issue("ten_a", nil)
	if _, err := a.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	// Each beat a few seconds after the last, so that its lease's iat is
	// the clock's and the beat takes the cached, read-only path (a lease
	// pushed ahead of the clock is written, and read, through the store).
	a.clock.Add(2 * time.Second)
	if resp, err := a.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "active" {
		t.Fatalf("first beat: %+v %v", resp, err)
	}
	b.must(200, "POST", "/licenses/"+l.ID+"/revoke", adminSecret, nil)
	a.clock.Add(2 * time.Second)
	if resp, err := a.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "active" {
		t.Fatalf("beat inside the TTL: %+v %v (the cache is not in use)", resp, err)
	}
	a.clock.Add(10 * time.Second)
	if resp, err := a.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "revoked" {
		t.Fatalf("beat past the TTL: %+v %v, want revoked", resp, err)
	}
}

func bytesOf(b byte) []byte {
	out := make([]byte, 32)
	for i := range out {
		out[i] = b
	}
	return out
}

// Beats racing with a revoke: once the revoke is answered, no beat that
// starts afterwards gets an active lease.
func TestLicenseCacheRaceWithRevoke(t *testing.T) {
	for round := range 20 {
		h := newHarness(t, withCache(time.Hour))
		l := h.issue("ten_a", nil)
		if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		revoked := false
		stop := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					after := revoked
					mu.Unlock()
					resp, err := h.beat(l, l.Primary, "fp-A")
					var he *heartbeat.Error
					if errors.As(err, &he) && he.StatusCode == 429 {
						// A machine beating faster than lease iat may advance
						// is told to wait once its status changed (the
						// revoke may land between reading after and the
						// answer): a wait grants nothing.
						continue
					}
					if err != nil {
						t.Errorf("round %d: beat: %v", round, err)
						return
					}
					if after && resp.Status != "revoked" {
						t.Errorf("round %d: a beat begun after the revoke was answered got %s", round, resp.Status)
						return
					}
				}
			}()
		}
		time.Sleep(time.Millisecond)
		h.must(200, "POST", "/licenses/"+l.ID+"/revoke", adminSecret, nil)
		mu.Lock()
		revoked = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		close(stop)
		wg.Wait()
	}
}
