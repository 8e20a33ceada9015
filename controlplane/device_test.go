package controlplane_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/heartbeat"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestActivateHeartbeatLease(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	resp, err := h.activate(l, l.Primary, "fp-A")
	if err != nil {
		t.Fatalf("activate: %v", err)
	}
	if resp.Status != "active" || resp.NextHeartbeat != time.Hour {
		t.Fatalf("activate answered %+v", resp)
	}
	first := h.lease(resp, l.ID, "fp-A")
	if want := first.IssuedAt.Add(controlplane.DefaultGrace); !first.ExpiresAt.Equal(want) {
		t.Fatalf("lease exp %v, want iat + grace %v", first.ExpiresAt, want)
	}
	// Same machine, same token again: the same binding and a fresh lease.
	again, err := h.activate(l, l.Primary, "fp-A")
	if err != nil {
		t.Fatalf("second activation: %v", err)
	}
	second := h.lease(again, l.ID, "fp-A")
	show := h.must(200, "GET", "/licenses/"+l.ID, adminSecret, nil)["license"].(map[string]any)
	if n := len(show["machines"].([]any)); n != 1 {
		t.Fatalf("%d bindings after activating twice, want 1", n)
	}
	// Leases in the same second still have strictly increasing iat.
	prev := second.IssuedAt
	if !prev.After(first.IssuedAt) {
		t.Fatalf("second lease iat %v not after first %v", prev, first.IssuedAt)
	}
	for i := range 3 {
		resp, err := h.beat(l, l.Primary, "fp-A")
		if err != nil {
			t.Fatalf("beat %d: %v", i, err)
		}
		ls := h.lease(resp, l.ID, "fp-A")
		if !ls.IssuedAt.After(prev) {
			t.Fatalf("beat %d: lease iat %v not after %v", i, ls.IssuedAt, prev)
		}
		prev = ls.IssuedAt
	}
	// The secondary key activates the same licence on the same machine.
	if _, err := h.activate(l, l.Secondary, "fp-A"); err != nil {
		t.Fatalf("secondary: %v", err)
	}
}

func TestSecondMachineRefusedWhenFull(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	_, err := h.activate(l, l.Primary, "fp-B")
	if !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("second machine: %v, want ErrBoundElsewhere", err)
	}
	if _, err := h.beat(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("beat of an unbound machine: %v, want ErrBoundElsewhere", err)
	}
}

func TestConcurrentActivationsBindAtMostMax(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 3})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.activate(l, l.Primary, fmt.Sprintf("fp-%02d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, heartbeat.ErrBoundElsewhere):
				refused++
			default:
				t.Errorf("activation %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || refused != 21 {
		t.Fatalf("%d bound, %d refused; want 3 and 21", ok, refused)
	}
	got, err := h.store.GetLicense(context.Background(), l.ID)
	if err != nil || len(got.Machines) != 3 {
		t.Fatalf("stored bindings: %d (%v), want 3", len(got.Machines), err)
	}
}

func TestRevokeSuspendRestore(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/suspend", adminSecret, nil)
	resp, err := h.beat(l, l.Primary, "fp-A")
	if err != nil || resp.Status != "suspended" {
		t.Fatalf("beat while suspended: %+v, %v", resp, err)
	}
	h.lease(resp, l.ID, "fp-A")
	if _, err := h.activate(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrSuspended) {
		t.Fatalf("activation while suspended: %v, want ErrSuspended", err)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/restore", adminSecret, nil)
	if resp, err := h.beat(l, l.Primary, "fp-A"); err != nil || resp.Status != "active" {
		t.Fatalf("beat after restore: %+v, %v", resp, err)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/revoke", adminSecret, nil)
	resp, err = h.beat(l, l.Primary, "fp-A")
	if err != nil || resp.Status != "revoked" {
		t.Fatalf("beat after revoke: %+v, %v", resp, err)
	}
	h.lease(resp, l.ID, "fp-A")
	if _, err := h.activate(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrRevoked) {
		t.Fatalf("activation after revoke: %v, want ErrRevoked", err)
	}
	// Revoked is final: restore and a second revoke are conflicts.
	for _, op := range []string{"restore", "revoke", "suspend"} {
		if rec := h.do("POST", "/licenses/"+l.ID+"/"+op, adminSecret, nil); rec.Code != 409 {
			t.Errorf("%s of a revoked licence: %d, want 409", op, rec.Code)
		}
	}
}

func TestRebindMovesTheBinding(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-old"); err != nil {
		t.Fatal(err)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/rebind", adminSecret, map[string]any{"fingerprint": "fp-new"})
	if _, err := h.beat(l, l.Primary, "fp-old"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("old machine's beat after rebind: %v, want ErrBoundElsewhere", err)
	}
	resp, err := h.activate(l, l.Primary, "fp-new")
	if err != nil {
		t.Fatalf("new machine: %v", err)
	}
	h.lease(resp, l.ID, "fp-new")
	if _, err := h.beat(l, l.Primary, "fp-new"); err != nil {
		t.Fatalf("new machine's beat: %v", err)
	}
}

func TestResetOneSlot(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 2})
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	out := h.must(200, "POST", "/licenses/"+l.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	nl := out["license"].(map[string]any)
	newPrimary := nl["primary"].(string)
	if newPrimary == l.Primary || nl["secondary"].(string) != l.Secondary {
		t.Fatalf("reset primary changed the wrong keys")
	}
	v := h.verifier()
	got, err := v.Verify(newPrimary)
	if err != nil || got.ID != l.ID || got.Slot != "primary" {
		t.Fatalf("new primary: %+v, %v", got, err)
	}
	// The old primary no longer activates; the secondary still does.
	if _, err := h.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrRejected) || !errors.Is(err, heartbeat.ErrKeyReplaced) {
		t.Fatalf("old primary activation: %v, want ErrRejected with ErrKeyReplaced (400 KEY_REPLACED)", err)
	}
	if _, err := h.activate(l, l.Secondary, "fp-B"); err != nil {
		t.Fatalf("secondary after a reset of primary: %v", err)
	}
	// A bound machine still running the old key keeps beating.
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatalf("bound machine with the replaced key: %v", err)
	}
	// Validate knows the old key is gone, and the new one is good.
	res := h.must(200, "POST", "/licenses/validate", adminSecret, map[string]any{"token": l.Primary})
	if res["valid"] != false || res["code"] != "KEY_REPLACED" {
		t.Fatalf("validate old primary: %v", res)
	}
	res = h.must(200, "POST", "/licenses/validate", adminSecret, map[string]any{"token": newPrimary})
	if res["valid"] != true {
		t.Fatalf("validate new primary: %v", res)
	}
}

func TestDeleteMakesDeviceCalls404(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	out := h.must(200, "DELETE", "/licenses/"+l.ID, adminSecret, nil)
	if st := out["license"].(map[string]any)["status"]; st != "deleted" {
		t.Fatalf("status after delete: %v", st)
	}
	if _, err := h.beat(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrUnknownLicense) {
		t.Fatalf("beat after delete: %v", err)
	}
	if _, err := h.activate(l, l.Secondary, "fp-B"); !errors.Is(err, heartbeat.ErrUnknownLicense) {
		t.Fatalf("activation after delete: %v", err)
	}
	if rec := h.do("GET", "/licenses/"+l.ID+"/keyfile", adminSecret, nil); rec.Code != 404 {
		t.Fatalf("keyfile after delete: %d", rec.Code)
	}
	res := h.must(200, "POST", "/licenses/validate", adminSecret, map[string]any{"token": l.Secondary})
	if res["valid"] != false {
		t.Fatalf("validate after delete: %v", res)
	}
	list := h.must(200, "GET", "/licenses?status=deleted", adminSecret, nil)["licenses"].([]any)
	if len(list) != 1 {
		t.Fatalf("deleted licence not listed: %v", list)
	}
}

func TestDeactivateHoldsTheSeatUntilTheLeaseExpires(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Hour)
	resp, err := h.beat(l, l.Primary, "fp-A") // the newest lease: written behind
	if err != nil {
		t.Fatal(err)
	}
	newest := h.lease(resp, l.ID, "fp-A")
	if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
		t.Fatalf("deactivate: %v", err)
	}
	// A released machine that beats again is not bound.
	if _, err := h.beat(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("beat after deactivate: %v, want ErrBoundElsewhere", err)
	}
	// Its seat is held while its newest lease could still run offline.
	h.clock.t = newest.ExpiresAt.Add(-time.Second)
	if _, err := h.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("successor before the lease ran out: %v, want ErrBoundElsewhere", err)
	}
	// Up to and including its exp, the last instant a product accepts it.
	h.clock.t = newest.ExpiresAt
	if _, err := h.activate(l, l.Primary, "fp-B"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("successor at the lease's exp: %v, want ErrBoundElsewhere", err)
	}
	h.clock.t = newest.ExpiresAt.Add(time.Second)
	if _, err := h.activate(l, l.Primary, "fp-B"); err != nil {
		t.Fatalf("successor once the lease ran out: %v", err)
	}
}

func TestDeactivatedSeatFreedByRebind(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/rebind", adminSecret, map[string]any{"fingerprint": "fp-B"})
	if _, err := h.activate(l, l.Primary, "fp-B"); err != nil {
		t.Fatalf("rebound machine: %v", err)
	}
	// The rebind freed the released seat for fp-B; fp-A has none now.
	if _, err := h.activate(l, l.Primary, "fp-A"); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("released machine after rebind elsewhere: %v", err)
	}
}

func TestDeviceTokenChecks(t *testing.T) {
	h := newHarness(t)
	a := h.issue("ten_a", nil)
	b := h.issue("ten_a", nil)
	// A token of another licence.
	_, err := h.client().Activate(context.Background(), heartbeat.Request{LicenseID: a.ID, Token: b.Primary, Fingerprint: "fp", IdempotencyKey: "k"})
	if !errors.Is(err, heartbeat.ErrRejected) {
		t.Fatalf("token of another licence: %v", err)
	}
	// A forged token: the signature of another.
	forged := a.Primary[:len(a.Primary)-4] + "AAAA"
	if _, err := h.activate(a, forged, "fp"); !errors.Is(err, heartbeat.ErrRejected) {
		t.Fatalf("forged token: %v", err)
	}
	// A lease presented as a licence token.
	resp, err := h.activate(a, a.Primary, "fp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.beat(a, resp.Lease, "fp"); !errors.Is(err, heartbeat.ErrRejected) {
		t.Fatalf("lease as token: %v", err)
	}
	// An unknown licence.
	_, err = h.client().Heartbeat(context.Background(), heartbeat.Request{LicenseID: "lic_nope", Token: a.Primary, Fingerprint: "fp"})
	if !errors.Is(err, heartbeat.ErrRejected) {
		t.Fatalf("path of another licence than the token: %v", err)
	}
}

func TestHeartbeatBookkeepingWrittenBehind(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(30 * time.Minute)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := h.store.GetLicense(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at := got.Machines[0].LastHeartbeatAt; !at.Equal(h.clock.Now()) {
		t.Fatalf("stored last beat %v, want %v (flushed on Close)", at, h.clock.Now())
	}
}
