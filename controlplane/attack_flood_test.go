package controlplane_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/heartbeat"
)

// countingStore counts the reads of API keys.
type countingStore struct {
	controlplane.Store
	keyReads atomic.Int64
}

func (c *countingStore) GetAPIKey(ctx context.Context, id string) (controlplane.APIKey, error) {
	c.keyReads.Add(1)
	return c.Store.GetAPIKey(ctx, id)
}

// Secrets that the server did not make cost no store read: a flood of
// forged bearer secrets, even ones naming a real key id, is refused before
// the store is asked.
func TestAttackForgedSecretsCostNoStoreRead(t *testing.T) {
	cs := &countingStore{Store: memstore.New()}
	h := newHarness(t, func(c *controlplane.Config) { c.Store = cs })
	real := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "real", "role": "super_admin", "scopes": allScopes})["key"].(map[string]any)
	realID, realSecret := real["id"].(string), real["secret"].(string)
	if rec := h.do("GET", "/licenses", realSecret, nil); rec.Code != 200 {
		t.Fatalf("the real secret: %d", rec.Code)
	}
	before := cs.keyReads.Load()
	forged := []string{
		"lk_" + realID + "_" + strings.Repeat("a", 48),
		realSecret[:len(realSecret)-1] + "a",
		realSecret[:len(realSecret)-1] + "b",
		"lk_" + realID + "_" + realSecret[len(realSecret)-10:],
		"lk_key_bootstrap_" + strings.Repeat("b", 48),
	}
	for i := range 200 {
		forged = append(forged, fmt.Sprintf("lk_key_%016d_%048d", i, i))
	}
	for _, sec := range forged {
		if sec == realSecret {
			continue
		}
		if rec := h.do("GET", "/licenses", sec, nil); rec.Code != 401 {
			t.Fatalf("forged secret %.30s…: %d", sec, rec.Code)
		}
	}
	if n := cs.keyReads.Load() - before; n != 0 {
		t.Fatalf("%d forged secrets cost %d store reads, want 0", len(forged), n)
	}
}

// Anyone who knows a licence id can send it garbage, but cannot spend the
// rate limit of the machines that hold its key: only calls whose token
// verifies for that licence count against it.
func TestAttackForeignFloodDoesNotSpendDeviceLimit(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) {
		c.DeviceRateLimit = controlplane.RateLimit{PerSecond: 1, Burst: 3}
	})
	victim := h.issue("ten_b", nil)
	mine := h.issue("ten_a", nil)
	if _, err := h.activate(victim, victim.Primary, "fp-victim"); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(victim.Primary, ".")
	for _, tok := range []string{"garbage", mine.Primary, parts[0] + "." + parts[1] + ".AAAA", victim.Primary + "x"} {
		for range 20 {
			for _, op := range []string{"heartbeat", "activate", "deactivate"} {
				rec := h.do("POST", "/licenses/"+victim.ID+"/"+op, "", map[string]any{"token": tok, "fingerprint": "fp-victim"})
				if rec.Code == 200 || rec.Code >= 500 {
					t.Fatalf("%s with a foreign token: %d %s", op, rec.Code, rec.Body.String())
				}
			}
		}
	}
	if _, err := h.beat(victim, victim.Primary, "fp-victim"); err != nil {
		t.Fatalf("the victim's own heartbeat after a foreign flood: %v", err)
	}
	// The victim's own loop is still limited, with a sane Retry-After.
	var he *heartbeat.Error
	for range 5 {
		if _, err := h.beat(victim, victim.Primary, "fp-victim"); errors.As(err, &he) {
			break
		}
	}
	if he == nil || he.StatusCode != 429 || he.RetryAfter < time.Second || he.RetryAfter > time.Minute {
		t.Fatalf("the licence's own loop: %v", he)
	}
}

// A limit given with a burst but no rate is the default rate with that
// burst, not a budget spent for good with a Retry-After that never comes
// true.
func TestAttackRateWithoutPerSecond(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) {
		c.AdminRateLimit = controlplane.RateLimit{Burst: 2}
	})
	for range 3 {
		h.do("GET", "/licenses", adminSecret, nil)
	}
	rec := h.do("GET", "/licenses", adminSecret, nil)
	if rec.Code != 429 {
		t.Fatalf("over the burst: %d", rec.Code)
	}
	wait, err := time.ParseDuration(rec.Header().Get("Retry-After") + "s")
	if err != nil || wait < time.Second || wait > time.Minute {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	h.clock.Add(wait)
	if rec := h.do("GET", "/licenses", adminSecret, nil); rec.Code != 200 {
		t.Fatalf("after waiting Retry-After (%v): %d", wait, rec.Code)
	}
}
