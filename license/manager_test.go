package license_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// rig is one product machine talking to an in-memory control plane.
type rig struct {
	t       *testing.T
	iss     *licensetest.Issuer
	cp      *licensetest.ControlPlane
	cfg     license.Config
	lic     string // the licence id
	offset  atomic.Int64
	changes *changeLog
}

// changeLog records OnChange calls.
type changeLog struct {
	mu     sync.Mutex
	states []license.State
}

func (c *changeLog) add(s license.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = append(c.states, s.State)
}

func (c *changeLog) all() []license.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]license.State(nil), c.states...)
}

// newRig must run inside a synctest bubble: the licence is minted at the
// bubble's fake time.
func newRig(t *testing.T, mint ...licensetest.MintOption) *rig {
	t.Helper()
	r := &rig{t: t, changes: &changeLog{}}
	r.iss = licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	r.cp = licensetest.NewControlPlane(r.iss)
	dir := t.TempDir()
	mint = append([]licensetest.MintOption{licensetest.Capabilities("kyc:read", "kyc:write")}, mint...)
	path := r.iss.WriteKeyFile(dir, licensetest.Tokens(mint...))
	kf, err := license.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lic, err := r.iss.Verifier().VerifyKeyFile(kf)
	if err != nil {
		t.Fatal(err)
	}
	r.lic = lic.ID
	r.cfg = license.Config{
		Keys:       r.iss.Keyring(),
		KeyFile:    path,
		AppID:      "acme-appliance",
		ServerURL:  r.cp.URL(),
		HTTPClient: r.cp.Client(),
		StateDir:   filepath.Join(dir, "state"),
		Issuer:     "acme",
		MachineID:  "machine-A",
		OnChange:   r.changes.add,
		Now:        func() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) },
	}
	return r
}

func (r *rig) open() *license.Manager {
	r.t.Helper()
	m, err := license.Open(context.Background(), r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { m.Close() })
	synctest.Wait()
	return m
}

func wantState(t *testing.T, m *license.Manager, want license.State, sentinel error) {
	t.Helper()
	st := m.Status()
	if st.State != want {
		t.Fatalf("state = %v (err %v), want %v", st.State, st.Err, want)
	}
	err := m.Require("kyc:write")
	switch {
	case want.Allowed() && err != nil:
		t.Fatalf("Require in %v = %v, want nil", want, err)
	case !want.Allowed() && err == nil:
		t.Fatalf("Require in %v = nil, want an error", want)
	case sentinel != nil && !errors.Is(err, sentinel):
		t.Fatalf("Require in %v = %v, want %v", want, err, sentinel)
	}
}

func TestManagerHealthy30Days(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		if err := m.Require("billing:admin"); !errors.Is(err, license.ErrCapability) {
			t.Fatalf("ungranted capability: %v", err)
		}
		time.Sleep(30 * 24 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		if got := r.cp.Count("activate"); got != 1 {
			t.Errorf("activations = %d, want 1", got)
		}
		// One beat an hour for 30 days after the activation.
		if got := r.cp.Count("heartbeat"); got != 30*24 {
			t.Errorf("heartbeats = %d, want %d", got, 30*24)
		}
		// One transition: inactive (before the activation) to active.
		if got := r.changes.all(); !equalStates(got, []license.State{license.StateActive}) {
			t.Errorf("OnChange saw %v during a healthy month, want only [active]", got)
		}
	})
}

func TestManagerOutageGraceThenLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		time.Sleep(90 * time.Minute)
		r.cp.SetDown(true)
		lastLease := m.Status().GraceDeadline
		time.Sleep(31 * time.Minute) // the next beat fails
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil)
		if m.Status().GraceDeadline != lastLease {
			t.Fatalf("deadline moved during the outage")
		}
		time.Sleep(time.Until(lastLease))
		synctest.Wait()
		wantState(t, m, license.StateGrace, nil) // exactly at the deadline: allowed
		time.Sleep(time.Second)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrGraceExpired)

		// Two weeks of retries, none closer than the backoff's floor and
		// none further apart than its cap.
		var down []time.Time
		for _, rec := range r.cp.Received() {
			if rec.Answer == 0 {
				down = append(down, rec.At)
			}
		}
		if len(down) < 14*24*60/5 {
			t.Fatalf("%d attempts during a 14-day outage; backoff is capped at 5 minutes", len(down))
		}
		for i := 1; i < len(down); i++ {
			if gap := down[i].Sub(down[i-1]); gap > 5*time.Minute || gap < 500*time.Millisecond {
				t.Fatalf("attempt %d came %v after the previous one", i, gap)
			}
		}
		t.Logf("%d attempts during the outage", len(down))

		r.cp.SetDown(false)
		time.Sleep(6 * time.Minute) // the backoff is capped at 5 minutes
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		want := []license.State{license.StateActive, license.StateGrace, license.StateLocked, license.StateActive}
		if got := r.changes.all(); !equalStates(got, want) {
			t.Errorf("OnChange saw %v, want %v", got, want)
		}
	})
}

func equalStates(a, b []license.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
