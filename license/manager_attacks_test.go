package license_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/grace"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// The attacks of issue 8, each as a hostile customer runs it: a proxy in
// front of the control plane that records and replays genuine answers, a
// clock the customer sets, the grace API to rewrite the state file, kill -9.

// proxy sits between the product and the control plane. It records every
// genuine answer; once told to, it answers heartbeats with a recorded one
// instead, or asks the control plane twice and keeps the second answer.
type proxy struct {
	next http.RoundTripper

	mu       sync.Mutex
	answers  [][]byte // bodies of genuine 200 answers, in order
	replay   []byte   // when set, every request is answered with it
	twice    bool     // ask twice at once, answer the first, keep the second
	ownNonce bool     // with twice: the second request is the proxy's own, with a nonce of its own
	twin     []byte
	rewrite  func(fpr string) string // rewrites the fingerprint a request sends
	replayed int
}

func (p *proxy) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	p.mu.Lock()
	replay, twice, ownNonce, rewrite := p.replay, p.twice, p.ownNonce, p.rewrite
	p.twice = false
	if replay != nil {
		p.replayed++
	}
	p.mu.Unlock()
	if replay != nil {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(replay)), Request: req}, nil
	}
	if rewrite != nil {
		var in map[string]string
		if json.Unmarshal(body, &in) == nil {
			in["fingerprint"] = rewrite(in["fingerprint"])
			body, _ = json.Marshal(in)
		}
	}
	send := func(body []byte) (*http.Response, []byte, error) {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		resp, err := p.next.RoundTrip(r)
		if err != nil {
			return nil, nil, err
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return resp, data, nil
	}
	resp, data, err := send(body)
	if err == nil && resp.StatusCode == 200 {
		p.mu.Lock()
		p.answers = append(p.answers, data)
		p.mu.Unlock()
	}
	if twice && err == nil {
		second := body
		if ownNonce {
			var in map[string]string
			if json.Unmarshal(body, &in) == nil {
				in["nonce"] = heartbeat.NewNonce()
				second, _ = json.Marshal(in)
			}
		}
		if r2, d2, err2 := send(second); err2 == nil && r2.StatusCode == 200 {
			p.mu.Lock()
			p.twin = d2
			p.mu.Unlock()
		}
	}
	return resp, err
}

func (p *proxy) set(f func(p *proxy)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// leaseOf returns the lease token in a recorded answer.
func leaseOf(t *testing.T, answer []byte) string {
	t.Helper()
	var a struct{ Lease string }
	if err := json.Unmarshal(answer, &a); err != nil || a.Lease == "" {
		t.Fatalf("not a lease answer: %s", answer)
	}
	return a.Lease
}

// Attack 1: after a signed verdict (revoked), an older genuine "active"
// answer replayed by the proxy changes nothing, also after a restart.
func TestAttackReplayedLeaseCannotUndoVerdict(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		p := &proxy{next: r.cp}
		r.cfg.HTTPClient = &http.Client{Transport: p}
		m := r.open()
		time.Sleep(time.Hour) // one beat: a second active answer
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)

		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour) // the beat brings a signed "revoked" lease
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)

		var old []byte
		p.set(func(p *proxy) { old = p.answers[len(p.answers)-2]; p.replay = old })
		if v, err := r.iss.Verifier().VerifyLease(leaseOf(t, old)); err != nil || v.Status != license.LeaseActive {
			t.Fatalf("the replayed answer is not a genuine active lease: %v %+v", err, v)
		}
		for range 3 {
			time.Sleep(time.Hour)
			synctest.Wait()
			wantState(t, m, license.StateLocked, license.ErrRevoked)
		}
		m.Close()
		m2 := r.open()
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		wantState(t, m2, license.StateLocked, license.ErrRevoked)
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.replayed == 0 {
			t.Fatal("the product never asked: the test proves nothing")
		}
	})
}

// Attack 2, and leases banked by a proxy: the proxy sends a beat twice —
// the product's own request again, or a request of its own made with the
// token and fingerprint it has seen — and keeps the second answer. The
// control plane issues it a second later, so it is even the newer lease.
// Offline, the clock goes back and the product locks; answering a later
// beat with the kept lease must not clear the lock: it answers another
// request (its nonce), so it changes nothing.
func TestAttackTwinLeaseCannotClearClockLock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ownNonce bool
	}{{"the same request twice", false}, {"the proxy's own request", true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t)
				p := &proxy{next: r.cp}
				r.cfg.HTTPClient = &http.Client{Transport: p}
				m := r.open()
				p.set(func(p *proxy) { p.twice, p.ownNonce = true, tc.ownNonce })
				time.Sleep(time.Hour) // the beat is sent twice; the product gets the first answer
				synctest.Wait()
				wantState(t, m, license.StateActive, nil)
				var twin []byte
				p.set(func(p *proxy) { twin = p.twin })
				if twin == nil {
					t.Fatal("no twin recorded")
				}
				first, _ := r.iss.Verifier().VerifyLease(leaseOf(t, p.answers[len(p.answers)-1]))
				second, _ := r.iss.Verifier().VerifyLease(leaseOf(t, twin))
				if first == nil || second == nil || first.Nonce == "" || (first.Nonce == second.Nonce) == tc.ownNonce ||
					!second.IssuedAt.After(first.IssuedAt) || first.ID == second.ID {
					t.Fatalf("not the lease wanted (the held-back answer the newer): %+v %+v", first, second)
				}

				r.cp.SetDown(true)
				time.Sleep(5 * 24 * time.Hour)
				r.offset.Store(int64(-3 * 24 * time.Hour))
				time.Sleep(10 * time.Minute)
				synctest.Wait()
				wantState(t, m, license.StateLocked, license.ErrClockTampered)

				p.set(func(p *proxy) { p.replay = twin })
				r.cp.SetDown(false)
				for range 3 {
					time.Sleep(time.Hour)
					synctest.Wait()
					wantState(t, m, license.StateLocked, license.ErrClockTampered)
				}
			})
		})
	}
}

// Attack 3a: a heartbeat answered while the clock is set 299 days back
// banks no grace: the product is treated as one whose clock is far ahead.
func TestAttackClockFarBehindBanksNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		time.Sleep(30 * time.Minute)
		r.offset.Store(int64(-299 * 24 * time.Hour))
		time.Sleep(30 * time.Minute) // the beat at 1 h answers on the set-back clock
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
		if r.cp.Count("heartbeat") == 0 {
			t.Fatal("no heartbeat was answered: the test proves nothing")
		}
		// Going offline and waiting changes nothing.
		r.cp.SetDown(true)
		time.Sleep(3 * 24 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrClockTampered)
	})
}

// Attack 3b: the state file rewritten through the grace API with the
// lease's receipt time zeroed holds no lease.
func TestAttackResealedStateWithoutReceiptTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.IssuedAt(time.Now().Add(-24*time.Hour)))
		r.offset.Store(int64(-6 * time.Hour)) // within the bound: an honest lease of 14 local days
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		m.Close()

		store := r.graceStore(t)
		st, err := store.Load()
		if err != nil || st.Lease == nil {
			t.Fatalf("load: %v %+v", err, st)
		}
		st.Lease.ReceivedAt = time.Time{}
		if err := store.Save(st); err != nil {
			t.Fatal(err)
		}

		r.cp.SetDown(true)
		m2 := r.open()
		wantState(t, m2, license.StateInactive, license.ErrNotActivated)
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		wantState(t, m2, license.StateInactive, license.ErrNotActivated)
	})
}

// kill leaves the state directory as kill -9 of m would: what is on disk
// now, with nothing m would write on the way out.
func (r *rig) kill(m *license.Manager) {
	r.t.Helper()
	snap := filepath.Join(r.t.TempDir(), "snap")
	copyDir(r.t, r.cfg.StateDir, snap)
	m.Close()
	if err := os.RemoveAll(r.cfg.StateDir); err != nil {
		r.t.Fatal(err)
	}
	copyDir(r.t, snap, r.cfg.StateDir)
}

// Attack 4: cycles of start, 29 minutes of use, kill -9 and a clock set
// back gain nothing: the product stops when the lease's grace has passed
// in real time, or sooner. The mark on disk lags the clock by less than
// the write interval plus the watchdog's tick (5 + 5 minutes), and a start
// after a kill is charged that much for what the killed process did not
// write.
func TestAttackKillCyclesGainNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		toMark bool // set the clock to the mark on disk, else back to the cycle's start
	}{
		{"back to the cycle's start", false},
		{"back to the mark on disk", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Within a process the high-water mark follows the monotonic
			// clock, as time.Now's readings carry one; a bubble's do not,
			// so the clock here is a real reading moved to fake time.
			base := time.Now()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t)
				r.cfg.Now = func() time.Time { return base.Add(time.Since(base.Round(0)) + time.Duration(r.offset.Load())) }
				r.cfg.OnChange = nil
				r.cp.SetGrace(6 * time.Hour)
				m := r.open()
				received := time.Now()
				r.cp.SetDown(true)
				r.kill(m)
				cycles := 0
				for time.Since(received) < 10*time.Hour {
					m := r.open()
					if st := m.Status(); st.State.Allowed() && time.Since(received) > 6*time.Hour {
						t.Fatalf("cycle %d: %v, %v after the lease of 6 hours arrived", cycles, st.State, time.Since(received))
					}
					time.Sleep(29 * time.Minute)
					synctest.Wait()
					r.kill(m)
					// What the customer can read in the file (no need to
					// re-seal it).
					st, _ := r.graceStore(t).Load()
					// The mark is written once it moved 5 minutes past the
					// one on disk, and observed every 5 minutes.
					if lag := r.cfg.Now().Sub(st.HighWater); !st.HighWater.IsZero() && lag > 10*time.Minute {
						t.Fatalf("cycle %d: the mark on disk lags the clock by %v", cycles, lag)
					}
					if tc.toMark && !st.HighWater.IsZero() {
						r.offset.Store(int64(time.Until(st.HighWater)))
					} else {
						r.offset.Add(-int64(29 * time.Minute))
					}
					cycles++
				}
				t.Logf("%d cycles", cycles)
			})
		})
	}
}

// midpoint returns fpr with one component other than the machine changed:
// a fingerprint that matches fpr under the tolerant policy without being it.
func midpoint(t *testing.T, fpr string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(fpr, "fp1."))
	if err != nil || len(raw) != 48 {
		t.Fatalf("not a fingerprint: %q", fpr)
	}
	const cpuBit, cpuSlot = 1 << 1, 16
	if raw[0]&cpuBit != 0 {
		raw[cpuSlot] ^= 0xff
	} else {
		raw[0] |= cpuBit
		raw[cpuSlot] = 1
	}
	return "fp1." + base64.RawURLEncoding.EncodeToString(raw)
}

// Attack 5: a proxy rewrites the fingerprint the product sends to one that
// matches it only under the one-change tolerance (a midpoint between two
// machines). The lease that answers names a fingerprint this machine did
// not send: it is not accepted.
func TestAttackMidpointFingerprint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		p := &proxy{next: r.cp, rewrite: func(fpr string) string { return midpoint(t, fpr) }}
		r.cfg.HTTPClient = &http.Client{Transport: p}
		m := r.open()
		if r.cp.Count("activate") == 0 {
			t.Fatal("the activation was not answered: the test proves nothing")
		}
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
		if err := m.Status().LastError; !errors.Is(err, license.ErrFingerprint) {
			t.Fatalf("LastError = %v, want a fingerprint mismatch", err)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateInactive, license.ErrNotActivated)
	})
}

// Attack 7: offline, a licence that has expired is not revived by a step
// back of the clock within the tolerance.
func TestAttackStepBackRevivesExpiredLicence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.ExpiresIn(48*time.Hour))
		r.cfg.ServerURL = ""
		m := r.open()
		time.Sleep(48*time.Hour + license.DefaultLeeway + time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateExpired, license.ErrExpired)
		r.offset.Store(int64(-59 * time.Minute))
		time.Sleep(6 * time.Minute) // a watchdog tick on the set-back clock
		synctest.Wait()
		wantState(t, m, license.StateExpired, license.ErrExpired)
		m.Close()
		m2 := r.open()
		wantState(t, m2, license.StateExpired, license.ErrExpired)
	})
}

// graceStore opens the product's state file through the public grace API,
// as a customer can: the seal key is computed from the machine, and the
// leases in the file verify with the vendor's public keys.
func (r *rig) graceStore(t *testing.T) *grace.Store {
	t.Helper()
	fp, err := fingerprint.Compute(context.Background(), r.cfg.AppID, fingerprint.WithMachineID(r.cfg.MachineID))
	if err != nil {
		t.Fatal(err)
	}
	v := r.iss.Verifier(license.WithFingerprint(fp.Matches))
	s, err := grace.Open(grace.Options{
		Dir: r.cfg.StateDir, AppID: r.cfg.AppID, LicenseID: r.lic, SealKey: fp.MachineHash(),
		VerifyLease: func(token string) (*grace.Lease, error) {
			l, err := v.VerifyLease(token)
			if err != nil {
				return nil, err
			}
			return &grace.Lease{Token: token, ID: l.ID, LicenseID: l.LicenseID, Status: l.Status,
				Fingerprint: l.Fingerprint, IssuedAt: l.IssuedAt, ExpiresAt: l.ExpiresAt}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A variant of attack 7 with a second licence: offline, a licence that
// expired while this machine never used it does not run with the clock
// set back, because every licence of the product on the machine starts
// from the machine's clock mark (the grace package's machine clock file).
func TestAttackUnusedExpiredLicenceWithClockBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, licensetest.ExpiresIn(30*24*time.Hour))
		r.cfg.ServerURL = ""
		short := r.iss.WriteKeyFile(t.TempDir(), licensetest.Tokens(
			licensetest.Capabilities("kyc:read", "kyc:write"), licensetest.ExpiresIn(48*time.Hour)))

		m := r.open() // the long licence, used for ten days
		time.Sleep(10 * 24 * time.Hour)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		m.Close()

		// The short licence expired on day 2 and never ran here. With the
		// clock set back to day 1 it would look valid.
		r.offset.Store(int64(-9 * 24 * time.Hour))
		r.cfg.KeyFile = short
		m2 := r.open()
		if st := m2.Status(); st.State == license.StateActive || m2.Require("kyc:write") == nil {
			t.Fatalf("an expired licence runs with the clock set back: %v (%v)", st.State, st.Err)
		}
		wantState(t, m2, license.StateExpired, license.ErrExpired)
	})
}
