package license_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

const year = 365 * 24 * time.Hour

// An air-gapped machine writes a request, imports the answer, runs a year
// with no network, keeps it across restarts, and locks when the lease ends.
func TestOfflineActivationYear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 1)
		kf, _ := v.keyFile(t.TempDir(), "lic_air", 0)
		cfg := v.machine(t, kf, "appliance-1", false)
		cfg.OfflineActivation = true
		clock := &fieldClock{}
		cfg.Now = clock.now
		m := mustOpen(t, cfg)
		fieldState(t, m, license.StateInactive, license.CodeNotActivated)

		req, err := m.OfflineRequest()
		if err != nil {
			t.Fatal(err)
		}
		q, err := license.ParseOfflineRequest(req)
		if err != nil || q.LicenseID != "lic_air" || q.Fingerprint != m.Fingerprint() || len(q.Nonce) != 26 {
			t.Fatalf("request %+v, %v", q, err)
		}
		time.Sleep(3 * 24 * time.Hour) // carried to the vendor and back
		resp := v.offlineResponse(req, year, nil)
		if err := m.ImportOffline(resp); err != nil {
			t.Fatal(err)
		}
		fieldState(t, m, license.StateActive, "")
		if err := m.ImportOffline(resp); err != nil {
			t.Fatalf("the same response again: %v, want nil (changes nothing)", err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}

		// A restart keeps it, with the response file still configured.
		path := filepath.Join(t.TempDir(), "resp.json")
		if err := os.WriteFile(path, resp, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.OfflineResponse = path
		m = mustOpen(t, cfg)
		defer m.Close()
		fieldState(t, m, license.StateActive, "")
		// A year of running: the wall clock moves a month at a time (the
		// watchdog sees it at its next tick).
		for range 11 {
			clock.advance(30 * 24 * time.Hour)
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			fieldState(t, m, license.StateActive, "")
		}
		clock.advance(year - 11*30*24*time.Hour - 4*time.Hour) // 2 h before the lease's exp, counting the ticks slept
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		fieldState(t, m, license.StateActive, "")
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		fieldState(t, m, license.StateLocked, license.CodeGraceExpired)
	})
}

// The clock rules hold for an offline lease: a clock set back locks, and
// stays locked when it is put right again.
func TestOfflineLeaseClockSetBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 1)
		kf, _ := v.keyFile(t.TempDir(), "lic_air", 0)
		cfg := v.machine(t, kf, "appliance-1", false)
		clock := &fieldClock{}
		cfg.Now = clock.now
		m := mustOpen(t, cfg)
		defer m.Close()
		fieldState(t, m, license.StateActive, "") // no activation required: key alone
		req, err := m.OfflineRequest()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.ImportOffline(v.offlineResponse(req, year, nil)); err != nil {
			t.Fatal(err)
		}
		clock.advance(30 * 24 * time.Hour)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		fieldState(t, m, license.StateActive, "")
		clock.advance(-10 * 24 * time.Hour)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		fieldState(t, m, license.StateLocked, license.CodeClockTampered)
		clock.advance(10 * 24 * time.Hour)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		fieldState(t, m, license.StateLocked, license.CodeClockTampered)
	})
}

// Every hostile response is refused with its sentinel and changes nothing.
func TestOfflineResponseHostile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 2) // keys[1] is unknown to the product
		kf, _ := v.keyFile(t.TempDir(), "lic_air", 0)
		cfg := v.machine(t, kf, "appliance-1", false)
		cfg.OfflineActivation = true
		m := mustOpen(t, cfg)
		defer m.Close()
		oldReq, err := m.OfflineRequest()
		if err != nil {
			t.Fatal(err)
		}
		req, err := m.OfflineRequest() // replaces the pending one
		if err != nil {
			t.Fatal(err)
		}
		good := v.offlineResponse(req, year, nil)
		flipped := append([]byte(nil), good...)
		flipped[len(flipped)/2] ^= 0x01
		cases := []struct {
			name string
			resp []byte
			want *license.Error
		}{
			{"another machine", v.offlineResponse(req, year, func(l *mint.Lease, _ *license.OfflineResponse) { l.Fingerprint = "fp1.other" }), license.ErrFingerprint},
			{"another licence", v.offlineResponse(req, year, func(l *mint.Lease, r *license.OfflineResponse) { l.LicenseID, r.LicenseID = "lic_other", "lic_other" }), license.ErrClaims},
			{"lease of another licence", v.offlineResponse(req, year, func(l *mint.Lease, _ *license.OfflineResponse) { l.LicenseID = "lic_other" }), license.ErrClaims},
			{"old request replayed", v.offlineResponse(oldReq, year, nil), license.ErrOfflineResponse},
			{"not an offline lease", v.offlineResponse(req, year, func(l *mint.Lease, _ *license.OfflineResponse) { l.Offline = false }), license.ErrOfflineResponse},
			{"no nonce", v.offlineResponse(req, year, func(l *mint.Lease, _ *license.OfflineResponse) { l.Nonce = "" }), license.ErrOfflineResponse},
			{"unknown key", v.offlineResponse(req, year, func(l *mint.Lease, _ *license.OfflineResponse) { l.ID = "unknown-key" }), license.ErrUnknownKey},
			{"truncated", good[:len(good)-10], license.ErrMalformed},
			{"no trailing newline", good[:len(good)-1], license.ErrMalformed},
			{"white space", append([]byte(" "), good...), license.ErrMalformed},
			{"bit flipped", flipped, nil},
			{"empty", nil, license.ErrMalformed},
		}
		for _, c := range cases {
			err := m.ImportOffline(c.resp)
			switch {
			case err == nil:
				t.Errorf("%s: imported", c.name)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			fieldState(t, m, license.StateInactive, license.CodeNotActivated)
		}
		// Every byte of the file matters.
		for i := range good {
			b := append([]byte(nil), good...)
			b[i] ^= 0x20
			if m.ImportOffline(b) == nil {
				t.Fatalf("byte %d changed: imported", i)
			}
		}
		if err := m.ImportOffline(good); err != nil {
			t.Fatalf("the genuine response after the hostile ones: %v", err)
		}
		fieldState(t, m, license.StateActive, "")
		// Imported once, the request is no longer pending: another
		// response to it is a replay.
		again := v.offlineResponse(req, year, nil)
		if err := m.ImportOffline(again); !errors.Is(err, license.ErrOfflineResponse) {
			t.Fatalf("a second response to a consumed request: %v, want ErrOfflineResponse", err)
		}
	})
}

// A state directory lost with its pending request: the response cannot be
// imported (the machine must write a new request).
func TestOfflineResponseWithoutPendingRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 1)
		kf, _ := v.keyFile(t.TempDir(), "lic_air", 0)
		cfg := v.machine(t, kf, "appliance-1", false)
		cfg.OfflineActivation = true
		m := mustOpen(t, cfg)
		req, err := m.OfflineRequest()
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		if err := os.RemoveAll(cfg.StateDir); err != nil {
			t.Fatal(err)
		}
		m = mustOpen(t, cfg)
		defer m.Close()
		if err := m.ImportOffline(v.offlineResponse(req, year, nil)); !errors.Is(err, license.ErrOfflineResponse) {
			t.Fatalf("%v, want ErrOfflineResponse", err)
		}
		fieldState(t, m, license.StateInactive, license.CodeNotActivated)
	})
}

func FuzzParseOfflineRequest(f *testing.F) {
	q := &license.OfflineRequest{LicenseID: "lic_1", Token: "a.b.c", Fingerprint: "fp1.x", Nonce: "N", CreatedAt: time.Unix(1764583200, 0)}
	f.Add(q.Marshal())
	f.Add([]byte(`{"format":"licensekit.offline-request/v1"}`))
	f.Add([]byte(`{"format":"licensekit.offline-request/v1","format":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := license.ParseOfflineRequest(data)
		if err != nil {
			if !errors.Is(err, license.ErrMalformed) {
				t.Fatalf("error %v wraps no ErrMalformed", err)
			}
			return
		}
		again, err := license.ParseOfflineRequest(q.Marshal())
		if err != nil || *again != *q && !again.CreatedAt.Equal(q.CreatedAt) {
			t.Fatalf("a parsed request does not round-trip: %+v, %v", again, err)
		}
	})
}

func FuzzParseOfflineResponse(f *testing.F) {
	r := &license.OfflineResponse{LicenseID: "lic_1", Lease: "a.b.c"}
	f.Add(r.Marshal())
	f.Add([]byte(`{"format":"licensekit.offline-response/v1","license_id":"lic_1","lease":"a.b.c"}`))
	f.Add([]byte(`{"lease":"a.b.c","format":"licensekit.offline-response/v1","license_id":"lic_1"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := license.ParseOfflineResponse(data)
		if err != nil {
			if !errors.Is(err, license.ErrMalformed) {
				t.Fatalf("error %v wraps no ErrMalformed", err)
			}
			return
		}
		if string(r.Marshal()) != string(data) {
			t.Fatalf("accepted a response that is not canonical: %q", data)
		}
	})
}
