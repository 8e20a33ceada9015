package license_test

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// Two instances of one product on one machine share the state file. These
// tests are about answers that reach one instance and not the other.

// After a rebind, the instance that hears the 409 first drops the lease;
// the other must not write it back (before, it did, every few minutes,
// until its own heartbeat got the 409), and must stop within one
// watchdog tick.
func TestManagerTwoInstancesRebind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		a := r.open()
		time.Sleep(20 * time.Minute)
		b := r.open() // b's beats run 20 minutes behind a's
		wantState(t, a, license.StateActive, nil)
		wantState(t, b, license.StateActive, nil)

		r.cp.Rebind(r.lic, "some-other-machine")
		time.Sleep(40*time.Minute + time.Second) // a's beat at 1 h answers 409
		synctest.Wait()
		wantState(t, a, license.StateInactive, license.ErrFingerprint)

		time.Sleep(5 * time.Minute) // one watchdog tick of b; its own beat is not due
		synctest.Wait()
		if st := b.Status(); st.State.Allowed() {
			t.Fatalf("b is still %v five minutes after a was refused", st.State)
		}
		for range 6 { // half an hour of both watchdogs writing
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			wantState(t, a, license.StateInactive, license.ErrFingerprint)
			if b.Status().State.Allowed() {
				t.Fatal("b allowed again")
			}
		}

		// What is on disk: no lease. A third instance started with the
		// control plane down is not allowed to run.
		r.cp.SetDown(true)
		c := r.open()
		wantState(t, c, license.StateInactive, license.ErrNotActivated)
	})
}

// holdingTransport passes requests to the control plane and, while armed,
// holds the answer back until released: an answer overtaken on the way.
type holdingTransport struct {
	next    http.RoundTripper
	mu      sync.Mutex
	armed   bool
	held    chan struct{} // closed when an answer is being held
	release chan struct{}
}

func (h *holdingTransport) arm() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.held, h.release = true, make(chan struct{}), make(chan struct{})
}

func (h *holdingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(req)
	h.mu.Lock()
	armed, held, release := h.armed, h.held, h.release
	h.armed = false
	h.mu.Unlock()
	if armed {
		close(held)
		<-release
	}
	return resp, err
}

// An unsigned 403 REVOKED reaches instance a; a lease that b's beat got
// before the revocation arrives after it. It must not undo the revocation
// for a, on disk or after a restart, and b must stop within one tick.
func TestManagerTwoInstancesOvertakenLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		a, b, hold := overtaken(t, r, func() {})

		close(hold.release) // b's overtaken lease arrives
		synctest.Wait()
		wantState(t, a, license.StateLocked, license.ErrRevoked)
		for range 3 {
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			wantState(t, a, license.StateLocked, license.ErrRevoked)
			wantState(t, b, license.StateLocked, license.ErrRevoked)
		}
		a.Close()
		b.Close()

		r.cp.SetDown(true)
		c := r.open()
		wantState(t, c, license.StateLocked, license.ErrRevoked)
	})
}

// overtaken starts instance a and, 20 minutes later, instance b, whose
// answers can be held in flight. b's beat at 1 h 20 min gets a lease and
// its answer is held. Then the vendor revokes: a's beat at 2 h gets the
// unsigned 403 form (later requests get the signed "revoked" lease).
// beforeRefusal runs just before that beat. It returns once a is locked.
func overtaken(t *testing.T, r *rig, beforeRefusal func()) (a, b *license.Manager, hold *holdingTransport) {
	t.Helper()
	a = r.open()
	time.Sleep(20 * time.Minute)
	hold = &holdingTransport{next: r.cp}
	cfgB := r.cfg
	cfgB.HTTPClient = &http.Client{Transport: hold}
	b = openWith(t, cfgB)
	wantState(t, b, license.StateActive, nil)

	hold.arm()
	time.Sleep(time.Hour + time.Second)
	<-hold.held
	beforeRefusal()
	r.cp.Revoke(r.lic)
	r.cp.Fail(licensetest.Fault{Status: 403, Body: `{"error":{"code":"REVOKED","message":"License revoked"}}`})
	time.Sleep(40 * time.Minute)
	synctest.Wait()
	wantState(t, a, license.StateLocked, license.ErrRevoked)
	return a, b, hold
}

// openWith opens a manager with cfg, closes it when the test ends, and
// lets it settle.
func openWith(t *testing.T, cfg license.Config) *license.Manager {
	t.Helper()
	m, err := license.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	synctest.Wait()
	return m
}

// As above, but a's refusal could not be saved (the state directory is
// immutable), so the overtaken lease from b reaches the file, which has
// no floor. a's watchdog must not adopt it over its own unsaved refusal.
// (Found in review.)
func TestManagerTwoInstancesOvertakenLeaseOverUnsavedRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		var release func()
		a, _, hold := overtaken(t, r, func() { release = freezeDir(t, r.cfg.StateDir) }) // the save of the 403 fails
		release()

		close(hold.release) // b's overtaken lease arrives and is stored
		synctest.Wait()
		for range 3 {
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			wantState(t, a, license.StateLocked, license.ErrRevoked)
		}
	})
}

// aheadDate sets every answer's Date header ahead of the real (bubble)
// time: a front end whose clock runs ahead of the lease signer's.
type aheadDate struct {
	next  http.RoundTripper
	ahead time.Duration
}

func (a aheadDate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	if resp != nil {
		resp.Header.Set("Date", time.Now().Add(a.ahead).UTC().Format(http.TimeFormat))
	}
	return resp, err
}

// A refusal's Date from a clock 30 minutes ahead makes the leases of the
// next 30 minutes stale. An instance that gets a stale lease asks again
// soon (the loop's minimum interval), not a whole interval later, so a
// restore takes effect about when the floor is passed. (Found in review.)
func TestManagerStaleLeaseAsksAgainSoon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cfg.HTTPClient = &http.Client{Transport: aheadDate{next: r.cp, ahead: 30 * time.Minute}}
		a := r.open()
		time.Sleep(20 * time.Minute)
		b := r.open() // b's beats run 20 minutes behind a's

		time.Sleep(2*time.Hour + time.Second) // 2 h 20 min 1 s: just after b's beat
		r.cp.Suspend(r.lic)
		r.cp.Fail(licensetest.Fault{Status: 403, Body: `{"error":{"code":"SUSPENDED","message":"Subscription suspended"}}`})
		time.Sleep(40 * time.Minute) // a's beat at 3 h gets the unsigned 403; its Date says 3 h 30 min
		synctest.Wait()
		wantState(t, a, license.StateSuspended, license.ErrSuspended)
		r.cp.Restore(r.lic)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		wantState(t, b, license.StateSuspended, license.ErrSuspended)

		// b's beat at 3 h 20 min brings an active lease issued before the
		// floor: stale. b must keep asking, and get through soon after
		// 3 h 30 min; both instances are active well before a's own next
		// beat at 4 h.
		time.Sleep(30 * time.Minute) // 3 h 35 min 1 s
		synctest.Wait()
		wantState(t, b, license.StateActive, nil)
		time.Sleep(5 * time.Minute) // a's watchdog adopts b's fresh lease
		synctest.Wait()
		wantState(t, a, license.StateActive, nil)
	})
}
