package licensetest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// beat sends a heartbeat for fpr and returns the verified lease.
func (r *cpRig) beat(t *testing.T, fpr string) *license.Lease {
	t.Helper()
	resp, err := r.client.Heartbeat(context.Background(), r.req(fpr))
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.iss.Verifier().VerifyLease(resp.Lease)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Successive leases for one licence have strictly increasing iat, so a
// product that counts a lease only if it is strictly newer never drops
// one — a verdict issued in the same second as the lease it overrides
// included. A second beat in the same second gets the next second; each
// lease carries its request's nonce, so a held-back one cannot be played
// back as the answer to another request.
func TestControlPlaneLeaseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newCP(t)
		if _, err := r.client.Activate(context.Background(), r.req("machine-A")); err != nil {
			t.Fatal(err)
		}
		a := r.beat(t, "machine-A")
		twin := r.beat(t, "machine-A") // the same second (synctest time stands still)
		if !twin.IssuedAt.Equal(a.IssuedAt.Add(time.Second)) || twin.ID == a.ID || twin.Nonce == a.Nonce || twin.Nonce == "" {
			t.Fatalf("second beat of a second: iat %v after %v, ids %s %s, nonces %q %q",
				twin.IssuedAt, a.IssuedAt, twin.ID, a.ID, twin.Nonce, a.Nonce)
		}
		a = twin
		r.cp.Suspend(r.lic)
		verdict := r.beat(t, "machine-A") // still the same second
		if verdict.Status != license.LeaseSuspended || !verdict.IssuedAt.After(a.IssuedAt) {
			t.Fatalf("verdict in the same second: status %s, iat %v after %v", verdict.Status, verdict.IssuedAt, a.IssuedAt)
		}
		if got := verdict.ExpiresAt.Sub(a.ExpiresAt); got != 0 {
			t.Fatalf("the verdict's exp moved by %v: the bump must not lengthen a lease", got)
		}
		r.cp.Restore(r.lic)
		restored := r.beat(t, "machine-A")
		if !restored.IssuedAt.After(verdict.IssuedAt) || restored.Status != license.LeaseActive {
			t.Fatalf("restore after the verdict: %s, iat %v, verdict %v", restored.Status, restored.IssuedAt, verdict.IssuedAt)
		}
		// The bumped iat is ahead of the clock; the next lease does not go
		// back below it.
		again := r.beat(t, "machine-A")
		if !again.IssuedAt.After(restored.IssuedAt) {
			t.Fatalf("iat went back: %v after %v", again.IssuedAt, restored.IssuedAt)
		}
		time.Sleep(time.Hour)
		later := r.beat(t, "machine-A")
		if !later.IssuedAt.Equal(time.Now().Truncate(time.Second)) {
			t.Fatalf("an hour later iat = %v, want the clock %v", later.IssuedAt, time.Now())
		}
	})
}

// A seat freed by the device's own deactivate stays held until the newest
// lease issued to that machine expires (inclusive), because that machine
// may keep running offline on it: another machine cannot activate before
// then. The server holds it a whole grace from the deactivation, since it
// cannot know that no lease of that second escaped its bookkeeping; so
// HeldUntil is at least the newest lease's exp. The machine itself may
// come back, and a vendor admin's Rebind releases the seat at once (the
// deactivate ping-pong of the security review).
func TestControlPlaneDeactivateHoldsSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newCP(t)
		ctx := context.Background()
		if _, err := r.client.Activate(ctx, r.req("machine-A")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(24 * time.Hour)
		newest := r.beat(t, "machine-A")
		time.Sleep(time.Hour)
		if err := r.client.Deactivate(ctx, r.req("machine-A")); err != nil {
			t.Fatal(err)
		}
		if got := r.cp.BoundTo(r.lic); got != "" {
			t.Fatalf("after Deactivate BoundTo = %q", got)
		}
		held := r.cp.HeldUntil(r.lic)
		if want := time.Now().Add(licensetest.DefaultGrace); held.Before(newest.ExpiresAt) || !held.Equal(want) {
			t.Fatalf("HeldUntil = %v, want a grace after the deactivation (%v), not before the newest lease's exp %v", held, want, newest.ExpiresAt)
		}
		if _, err := r.client.Activate(ctx, r.req("machine-B")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Fatalf("machine B while A's lease is valid: %v", err)
		}
		time.Sleep(time.Until(held))
		if _, err := r.client.Activate(ctx, r.req("machine-B")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Fatalf("machine B at the end of the hold, when A may still run: %v", err)
		}
		time.Sleep(time.Second)
		if _, err := r.client.Activate(ctx, r.req("machine-B")); err != nil {
			t.Fatalf("machine B once A's lease expired: %v", err)
		}
		if got := r.cp.BoundTo(r.lic); got != "machine-B" {
			t.Fatalf("BoundTo = %q", got)
		}

		// The deactivated machine itself may activate again at once.
		if err := r.client.Deactivate(ctx, r.req("machine-B")); err != nil {
			t.Fatal(err)
		}
		if _, err := r.client.Activate(ctx, r.req("machine-A")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Fatalf("machine A while B's seat is held: %v", err)
		}
		if _, err := r.client.Activate(ctx, heartbeatReq(r, "machine-B", "idem-B-again")); err != nil {
			t.Fatalf("machine B back on its own held seat: %v", err)
		}

		// An admin's rebind releases a held seat.
		if err := r.client.Deactivate(ctx, r.req("machine-B")); err != nil {
			t.Fatal(err)
		}
		r.cp.Rebind(r.lic, "machine-A")
		if !r.cp.HeldUntil(r.lic).IsZero() || r.cp.BoundTo(r.lic) != "machine-A" {
			t.Fatalf("Rebind left the seat held (%v) or bound to %q", r.cp.HeldUntil(r.lic), r.cp.BoundTo(r.lic))
		}
		if _, err := r.client.Activate(ctx, heartbeatReq(r, "machine-A", "idem-A-again")); err != nil {
			t.Fatalf("machine A after the admin released the seat: %v", err)
		}
	})
}

func heartbeatReq(r *cpRig, fpr, key string) heartbeat.Request {
	req := r.req(fpr)
	req.IdempotencyKey = key
	return req
}
