package controlplane_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
)

// A machine hammering heartbeats in one second cannot push its leases'
// iat, and with it their exp, far past the server's time: every lease
// answered is one the product accepts now, and none outlives now + grace
// by more than a few seconds. Past that, the machine gets its newest lease
// again; a status change it cannot yet be told in a new lease is a 429
// with a Retry-After that, waited out, brings it.
func TestAttackLeaseIatCannotRunAhead(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	v := h.verifier()
	ids := map[string]bool{}
	for i := range 200 {
		resp, err := h.beat(l, l.Primary, "fp-A")
		if err != nil {
			t.Fatalf("beat %d: %v", i, err)
		}
		ls, err := v.VerifyLease(resp.Lease)
		if err != nil {
			t.Fatalf("beat %d: the product refuses the lease now: %v", i, err)
		}
		if ahead := ls.ExpiresAt.Sub(h.clock.Now().Add(controlplane.DefaultGrace)); ahead > 15*time.Second {
			t.Fatalf("beat %d: the lease runs %v past now + grace", i, ahead)
		}
		ids[ls.ID] = true
	}
	if len(ids) > 15 {
		t.Fatalf("%d distinct leases in one second", len(ids))
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/suspend", adminSecret, nil)
	_, err := h.beat(l, l.Primary, "fp-A")
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 429 || he.RetryAfter < time.Second || he.RetryAfter > time.Minute {
		t.Fatalf("a status change at the bound: %v, want 429 with a sane Retry-After", err)
	}
	h.clock.Add(he.RetryAfter)
	resp, err := h.beat(l, l.Primary, "fp-A")
	if err != nil || resp.Status != "suspended" {
		t.Fatalf("after Retry-After: %+v, %v", resp, err)
	}
	h.lease(resp, l.ID, "fp-A")
}

// Leases to one machine have strictly increasing iat across state changes
// made in the same second.
func TestAttackLeaseOrderAcrossStateChanges(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	var last time.Time
	next := func(step string, resp *heartbeat.Response, err error, status string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		ls := h.lease(resp, l.ID, "fp-A")
		if ls.Status != status || !ls.IssuedAt.After(last) {
			t.Fatalf("%s: lease %s iat %v, want %s after %v", step, ls.Status, ls.IssuedAt, status, last)
		}
		last = ls.IssuedAt
	}
	resp, err := h.activate(l, l.Primary, "fp-A")
	next("activate", resp, err, "active")
	for _, op := range []struct{ path, status string }{{"suspend", "suspended"}, {"restore", "active"}, {"suspend", "suspended"}, {"restore", "active"}, {"revoke", "revoked"}} {
		resp, err := h.beat(l, l.Primary, "fp-A")
		before := "active"
		if op.path == "restore" {
			before = "suspended"
		}
		next("beat before "+op.path, resp, err, before)
		h.must(200, "POST", "/licenses/"+l.ID+"/"+op.path, adminSecret, nil)
		resp, err = h.beat(l, l.Primary, "fp-A")
		next("beat after "+op.path, resp, err, op.status)
	}
}

// A server that lost the written-behind bookkeeping (a crash) never
// issues a lease whose iat an earlier lease to that machine already had:
// neither one pushed ahead by others in its second, nor a plain one of
// the second the new process starts in.
func TestAttackLeaseIatAfterCrash(t *testing.T) {
	for _, leases := range []int{1, 3} {
		t.Run(fmt.Sprint(leases), func(t *testing.T) {
			h := newHarness(t, func(c *controlplane.Config) { c.FlushInterval = time.Hour })
			l := h.issue("ten_a", nil)
			if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
				t.Fatal(err)
			}
			h.clock.Add(30 * time.Minute)
			var newest time.Time
			for range leases { // in one second: iat now, now+1, …
				resp, err := h.beat(l, l.Primary, "fp-A")
				if err != nil {
					t.Fatal(err)
				}
				newest = h.lease(resp, l.ID, "fp-A").IssuedAt
			}
			// The process dies: its buffer is never written. Another starts
			// over the same store, in the same second.
			h2 := h.restart()
			resp, err := h2.beat(l, l.Primary, "fp-A")
			if err != nil {
				t.Fatal(err)
			}
			if got := h2.lease(resp, l.ID, "fp-A").IssuedAt; !got.After(newest) {
				t.Fatalf("after the restart a lease has iat %v, not after the %v issued before", got, newest)
			}
		})
	}
}

// The deactivate ping-pong: with one seat, the machine that released it
// keeps it until the newest lease it was given runs out, however often it
// deactivates and activates again, and whichever process it talked to.
func TestAttackDeactivatePingPong(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) { c.FlushInterval = time.Hour })
	l := h.issue("ten_a", nil)
	var newest *license.Lease
	take := func(resp *heartbeat.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		newest = h.lease(resp, l.ID, "fp-A")
	}
	take(h.activate(l, l.Primary, "fp-A"))
	for round := range 3 {
		h.clock.Add(time.Hour)
		take(h.beat(l, l.Primary, "fp-A"))
		if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
			t.Fatalf("round %d: deactivate: %v", round, err)
		}
		if _, err := h.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Fatalf("round %d: successor while the released lease runs: %v", round, err)
		}
		h.clock.Add(time.Minute)
		take(h.activate(l, l.Primary, "fp-A")) // back again: its own seat
	}
	if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	// A second process, which never saw the buffered beats, answers the
	// successor: the seat is still held.
	h2 := h.restart()
	h.clock.t = newest.ExpiresAt.Add(-time.Second)
	if _, err := h2.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("successor a second before the released machine's newest lease runs out: %v", err)
	}
	h.clock.t = newest.ExpiresAt.Add(time.Minute)
	if _, err := h2.activate(l, l.Primary, "fp-B"); err != nil {
		t.Fatalf("successor once it ran out: %v", err)
	}
	if _, err := h2.activate(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("the released machine after its successor took the seat: %v", err)
	}
}

// A seat released through a process that did not hold the newest
// bookkeeping (lost in a crash, or buffered in another process) stays held
// as long as the newest lease could run.
func TestAttackDeactivateAfterLostBeats(t *testing.T) {
	h := newHarness(t, func(c *controlplane.Config) { c.FlushInterval = time.Hour })
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Hour)
	resp, err := h.beat(l, l.Primary, "fp-A") // buffered, never written
	if err != nil {
		t.Fatal(err)
	}
	newest := h.lease(resp, l.ID, "fp-A")
	h2 := h.restart()
	h.clock.Add(time.Minute)
	if err := h2.deactivate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.t = newest.ExpiresAt.Add(-time.Second)
	if _, err := h2.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("successor while the released machine's newest lease still runs: %v", err)
	}
}

// An idempotency key replayed by another machine binds nothing.
func TestAttackIdempotencyReplayOtherMachine(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 3})
	c := h.client()
	if _, err := c.Activate(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: l.Primary, Fingerprint: "fp-A", IdempotencyKey: "same"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Activate(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: l.Primary, Fingerprint: "fp-B", IdempotencyKey: "same"})
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 409 {
		t.Fatalf("another machine with the same idempotency key: %v, want 409", err)
	}
	// The same machine and key again is the same binding.
	if _, err := c.Activate(context.Background(), heartbeat.Request{LicenseID: l.ID, Token: l.Secondary, Fingerprint: "fp-A", IdempotencyKey: "same"}); err != nil {
		t.Fatalf("replay by the same machine: %v", err)
	}
	got, _ := h.store.GetLicense(context.Background(), l.ID)
	if len(got.Machines) != 1 || got.Machines[0].Fingerprint != "fp-A" {
		t.Fatalf("bindings %+v, want fp-A only", got.Machines)
	}
}

// Fingerprints that are huge, empty, not ASCII, hold control characters,
// or differ only in case: each a clear 400 or another machine, and no
// change to the store.
func TestAttackFingerprintShapes(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-Case"); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	before := h.snapshot()
	for _, fp := range []string{strings.Repeat("f", 513), strings.Repeat("f", 64<<10), "", " ", "fp-Ä", "fp\u0000x", "fp\nx", "fp x", "fp-\u202eesac"} {
		for _, op := range []string{"activate", "heartbeat", "deactivate"} {
			body := map[string]any{"token": l.Primary, "fingerprint": fp}
			rec := h.do("POST", "/licenses/"+l.ID+"/"+op, "", body)
			if rec.Code != 400 && rec.Code != 413 {
				t.Errorf("%s with fingerprint %.20q: %d %s", op, fp, rec.Code, rec.Body.String())
				continue
			}
			errorCode(t, rec)
		}
	}
	// Differing only in case is another machine: the one seat is taken.
	for _, fp := range []string{"fp-case", "FP-CASE", "fp-Case "} {
		if _, err := h.activate(l, l.Primary, strings.TrimSpace(fp)+"x"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Errorf("activation of %q: %v, want ErrBoundElsewhere", fp, err)
		}
	}
	if _, err := h.beat(l, l.Primary, "fp-case"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Errorf("beat of fp-case: %v, want ErrBoundElsewhere", err)
	}
	if after := h.snapshot(); after != before {
		t.Fatalf("bad fingerprints changed the state")
	}
}

// Tokens that are not this licence's current token, in every shape: each
// refused, nothing bound.
func TestAttackTokenConfusion(t *testing.T) {
	h := newHarness(t)
	a := h.issue("ten_a", map[string]any{"max_machines": 5})
	other := h.issue("ten_b", nil)
	resp, err := h.activate(a, a.Primary, "fp-A")
	if err != nil {
		t.Fatal(err)
	}
	lease := resp.Lease
	// A licence token is never a lease.
	if _, err := h.verifier().VerifyLease(a.Primary); err == nil {
		t.Fatal("a licence token verified as a lease")
	}
	old := a.Primary
	h.must(200, "POST", "/licenses/"+a.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	parts := strings.Split(a.Secondary, ".")
	otherParts := strings.Split(other.Primary, ".")
	for name, tok := range map[string]string{
		"another licence's token":         other.Primary,
		"a lease":                         lease,
		"a reset slot's old token":        old,
		"claims of another, my signature": parts[0] + "." + otherParts[1] + "." + parts[2],
		"alg none":                        "eyJhbGciOiJub25lIn0." + parts[1] + ".",
		"no signature":                    parts[0] + "." + parts[1] + ".",
		"padding":                         a.Secondary + "==",
		"whitespace":                      " " + a.Secondary,
		"json serialization":              `{"payload":"` + parts[1] + `"}`,
	} {
		for _, fp := range []string{"fp-new", "fp-A"} {
			if tok == old && fp == "fp-A" {
				continue // the bound machine is handed the current key: TestKeyFollowsActivation
			}
			r, err := h.activate(a, tok, fp)
			if err == nil {
				t.Errorf("activation of %s with %s: answered %+v", fp, name, r)
			}
		}
	}
	got, _ := h.store.GetLicense(context.Background(), a.ID)
	if len(got.Machines) != 1 {
		t.Fatalf("bindings after the attacks: %+v", got.Machines)
	}
}

// A rebind racing the old machine's heartbeats: once the rebind has
// answered, the old machine gets no lease again.
func TestAttackRebindRace(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-old"); err != nil {
		t.Fatal(err)
	}
	var rebound atomic.Int64
	var seq atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var late atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				n := seq.Add(1)
				_, err := h.beat(l, l.Primary, "fp-old")
				if r := rebound.Load(); r != 0 && n > r && err == nil {
					late.Add(1)
				}
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	h.must(200, "POST", "/licenses/"+l.ID+"/rebind", adminSecret, map[string]any{"fingerprint": "fp-new"})
	rebound.Store(seq.Add(1))
	time.Sleep(10 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if n := late.Load(); n > 0 {
		t.Fatalf("%d beats of the old machine got a lease after the rebind", n)
	}
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	got, _ := h.store.GetLicense(context.Background(), l.ID)
	if len(got.Machines) != 1 || got.Machines[0].Fingerprint != "fp-new" {
		t.Fatalf("bindings %+v, want fp-new only", got.Machines)
	}
	if _, err := h.activate(l, l.Primary, "fp-new"); err != nil {
		t.Fatalf("the new machine: %v", err)
	}
}

// restart starts a second Server over the same store and clock, as another
// process (or the same one after a crash) would; the first is left as is.
func (h *harness) restart() *harness {
	h.t.Helper()
	srv, err := controlplane.New(context.Background(), controlplane.Config{
		Store: h.store, Issuer: issuer, AdminKey: adminSecret, Clock: h.clock.Now, SecretKey: testSecretKey(),
		DeviceRateLimit: controlplane.RateLimit{PerSecond: -1}, AdminRateLimit: controlplane.RateLimit{PerSecond: -1},
		FlushInterval: time.Hour,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { srv.Close() })
	return &harness{t: h.t, srv: srv, store: h.store, clock: h.clock}
}

func testSecretKey() []byte { return []byte(strings.Repeat("\x07", 32)) }
