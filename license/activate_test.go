package license_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// primaryToken is the primary token of the rig's key file; the rig's
// manager is then given no key file, so that the key only arrives by
// Activate.
func (r *rig) primaryToken() string {
	r.t.Helper()
	kf, err := license.LoadKeyFile(r.cfg.KeyFile)
	if err != nil {
		r.t.Fatal(err)
	}
	return kf.Primary
}

// activatedKeyFiles lists the files in the state directory that hold an
// activated key.
func activatedKeyFiles(t *testing.T, dir string) []string {
	t.Helper()
	got, err := filepath.Glob(filepath.Join(dir, "activated-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestActivateOnlineSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		token := r.primaryToken()
		r.cfg.KeyFile = ""
		m := r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)

		lic, err := m.Activate(context.Background(), token)
		if err != nil {
			t.Fatal(err)
		}
		if lic.ID != r.lic {
			t.Fatalf("Activate returned licence %q, want %q", lic.ID, r.lic)
		}
		// Activate waited for the control plane's answer.
		wantState(t, m, license.StateActive, nil)
		if got := r.cp.Count("activate"); got != 1 {
			t.Fatalf("activations = %d, want 1", got)
		}
		if got := r.cp.BoundTo(r.lic); got != m.Fingerprint() {
			t.Fatalf("the control plane bound %q, Fingerprint() = %q", got, m.Fingerprint())
		}
		files := activatedKeyFiles(t, r.cfg.StateDir)
		if len(files) != 1 {
			t.Fatalf("activated key files: %v", files)
		}
		fi, err := os.Stat(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("activated key file mode %v, want 0600", fi.Mode().Perm())
		}

		// A second key while one is in use: refused, nothing changes.
		other := r.iss.Mint(licensetest.Capabilities("kyc:write"))
		if _, err := m.Activate(context.Background(), other); !errors.Is(err, license.ErrAlreadyActivated) {
			t.Fatalf("second Activate = %v, want ErrAlreadyActivated", err)
		}
		if got := m.Status().License.ID; got != r.lic {
			t.Fatalf("licence in use changed to %q", got)
		}

		// A restart finds the activated key and its lease: no new activation.
		m.Close()
		m2 := r.open()
		wantState(t, m2, license.StateActive, nil)
		if got := m2.Status().License.ID; got != r.lic {
			t.Fatalf("after restart the licence is %q, want %q", got, r.lic)
		}
		if got := r.cp.Count("activate"); got != 1 {
			t.Fatalf("activations after restart = %d, want 1", got)
		}
	})
}

func TestActivateRefusesBadKeysAndChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cfg.KeyFile = ""
		m := r.open()
		good := r.iss.Mint()
		for _, tc := range []struct {
			name     string
			key      string
			sentinel error
		}{
			{"expired", r.iss.Mint(licensetest.ExpiresAt(time.Now().Add(-24 * time.Hour))), license.ErrExpired},
			{"tampered", good[:len(good)-4] + "AAAA", license.ErrSignature},
			{"not a token", "licensing.example.com", license.ErrMalformed},
			{"empty", "", license.ErrMalformed},
			{"other issuer", licensetest.NewIssuer(t, licensetest.IssuerName("acme")).Mint(), license.ErrUnknownKey},
			{"a lease", r.iss.MintLease(), license.ErrMalformed},
		} {
			if _, err := m.Activate(context.Background(), tc.key); !errors.Is(err, tc.sentinel) {
				t.Errorf("%s: Activate = %v, want %v", tc.name, err, tc.sentinel)
			}
			if _, err := m.Validate(tc.key); !errors.Is(err, tc.sentinel) {
				t.Errorf("%s: Validate = %v, want %v", tc.name, err, tc.sentinel)
			}
		}
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		if files := activatedKeyFiles(t, r.cfg.StateDir); len(files) != 0 {
			t.Fatalf("a refused key was kept: %v", files)
		}
		if got := len(r.cp.Received()); got != 0 {
			t.Fatalf("%d requests reached the control plane for refused keys", got)
		}
		// Validate changes nothing either, for a good key.
		if lic, err := m.Validate(good); err != nil || lic.ID == "" {
			t.Fatalf("Validate(good) = %v, %v", lic, err)
		}
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
	})
}

func TestDeactivateOnlineReleasesAndForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		token := r.primaryToken()
		r.cfg.KeyFile = ""
		m := r.open()
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateActive, nil)

		// Unreachable: nothing changes, and it may be retried.
		r.cp.SetDown(true)
		if err := m.Deactivate(context.Background()); !errors.Is(err, license.ErrUnavailable) {
			t.Fatalf("Deactivate while down = %v, want ErrUnavailable", err)
		}
		if st := m.Status(); st.License == nil || !st.State.Allowed() {
			t.Fatalf("a failed deactivation changed the state: %v", st.State)
		}
		if files := activatedKeyFiles(t, r.cfg.StateDir); len(files) != 1 {
			t.Fatalf("a failed deactivation removed the key: %v", files)
		}
		r.cp.SetDown(false)

		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := r.cp.Count("deactivate"); got < 1 {
			t.Fatalf("deactivate calls = %d", got)
		}
		if got := r.cp.BoundTo(r.lic); got != "" {
			t.Fatalf("still bound to %q after deactivation", got)
		}
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		if files := activatedKeyFiles(t, r.cfg.StateDir); len(files) != 0 {
			t.Fatalf("the activated key is still kept: %v", files)
		}
		if err := m.Deactivate(context.Background()); !errors.Is(err, license.ErrUnlicensed) {
			t.Fatalf("second Deactivate = %v, want ErrUnlicensed", err)
		}
		// No beat after the deactivation: the loop is stopped.
		beats := r.cp.Count("heartbeat")
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		if got := r.cp.Count("heartbeat"); got != beats {
			t.Fatalf("%d heartbeats after deactivation", got-beats)
		}

		// A restart stays unlicensed.
		m.Close()
		m = r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)

		// Using the key again takes a new activation: its lease was dropped.
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateActive, nil)
		if got := r.cp.Count("activate"); got != 2 {
			t.Fatalf("activations = %d, want 2", got)
		}
	})
}

// Deactivating and activating a revoked licence again must not clear what
// this machine recorded of it.
func TestDeactivateActivateKeepsRevocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		token := r.primaryToken()
		r.cfg.KeyFile = ""
		m := r.open()
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour + time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)

		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.cp.SetDown(true) // no answer can vouch for anything now
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		m.Close()
		m = r.open()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

func TestDeactivateKeyFileIsNotUsedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		before, err := os.ReadFile(r.cfg.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		after, err := os.ReadFile(r.cfg.KeyFile)
		if err != nil || string(after) != string(before) {
			t.Fatalf("the customer's key file was changed (%v)", err)
		}
		m.Close()
		m = r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		if err := m.Reload(); !errors.Is(err, license.ErrUnlicensed) {
			t.Fatalf("Reload of the deactivated file = %v, want ErrUnlicensed", err)
		}

		// Another file in its place is a new install.
		if err := os.WriteFile(r.cfg.KeyFile, r.iss.KeyFile(licensetest.Tokens(licensetest.Capabilities("kyc:write"))), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := m.Reload(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
		if got := m.Status().License.ID; got == r.lic {
			t.Fatalf("still the deactivated licence %q", got)
		}
	})
}

func TestKeyFileReplacedOnDisk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		wantState(t, m, license.StateActive, nil)
		oldExp := m.Status().License.ExpiresAt

		// A renewal of the same licence, dropped in place: noticed by the
		// watchdog without a restart or a call.
		renewed := r.iss.KeyFile(licensetest.Tokens(licensetest.ID(r.lic),
			licensetest.Capabilities("kyc:read", "kyc:write"), licensetest.ExpiresIn(2*365*24*time.Hour)))
		replaceFile(t, r.cfg.KeyFile, renewed)
		time.Sleep(license.KeyFileCheckInterval + time.Second)
		synctest.Wait()
		st := m.Status()
		if !st.License.ExpiresAt.After(oldExp) {
			t.Fatalf("expiry %v after the renewal, was %v: the replaced file was not picked up", st.License.ExpiresAt, oldExp)
		}
		wantState(t, m, license.StateActive, nil)
		if got := r.cp.Count("activate"); got != 1 {
			t.Fatalf("activations = %d: a renewal of the same licence must not activate again", got)
		}

		// A broken file in its place changes nothing.
		replaceFile(t, r.cfg.KeyFile, []byte(`{"format":"licensekit.keyfile/v1"`))
		if err := m.Reload(); !errors.Is(err, license.ErrKeyFile) {
			t.Fatalf("Reload of a broken file = %v, want ErrKeyFile", err)
		}
		time.Sleep(license.KeyFileCheckInterval + time.Second)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}

// A key file replaced by a renewal of a revoked licence stays revoked.
func TestKeyFileReplacedKeepsRevocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		m := r.open()
		r.cp.Revoke(r.lic)
		time.Sleep(time.Hour + time.Minute)
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)

		r.cp.SetDown(true)
		renewed := r.iss.KeyFile(licensetest.Tokens(licensetest.ID(r.lic), licensetest.ExpiresIn(2*365*24*time.Hour)))
		replaceFile(t, r.cfg.KeyFile, renewed)
		if err := m.Reload(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
		m.Close()
		m = r.open()
		wantState(t, m, license.StateLocked, license.ErrRevoked)
	})
}

// An offline product picks up a key file that appears after the start.
func TestKeyFileAppearsOffline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		r.cfg.ServerURL, r.cfg.HTTPClient = "", nil
		data, err := os.ReadFile(r.cfg.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(r.cfg.KeyFile); err != nil {
			t.Fatal(err)
		}
		m := r.open()
		wantState(t, m, license.StateUnlicensed, license.ErrKeyFile)
		replaceFile(t, r.cfg.KeyFile, data)
		time.Sleep(license.KeyFileCheckInterval + time.Second)
		synctest.Wait()
		wantState(t, m, license.StateActive, nil)
	})
}

// replaceFile puts data at path the way an operator would: a new file
// renamed over the old one.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestOfflineActivateDeactivate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		token := r.primaryToken()
		r.cfg.KeyFile, r.cfg.ServerURL, r.cfg.HTTPClient = "", "", nil
		m := r.open()
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateActive, nil)
		if _, err := m.Activate(context.Background(), token); !errors.Is(err, license.ErrAlreadyActivated) {
			t.Fatalf("second Activate = %v", err)
		}
		m.Close()
		m = r.open()
		wantState(t, m, license.StateActive, nil)
		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantState(t, m, license.StateUnlicensed, license.ErrUnlicensed)
		if len(r.cp.Received()) != 0 {
			t.Fatal("an offline manager called the control plane")
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Activate(context.Background(), token); !errors.Is(err, license.ErrClosed) {
			t.Fatalf("Activate after Close = %v, want ErrClosed", err)
		}
	})
}

func TestActivatedKeyFileConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		token := r.primaryToken()
		r.cfg.KeyFile, r.cfg.ServerURL, r.cfg.HTTPClient = "", "", nil
		r.cfg.ActivatedKeyFile = filepath.Join(t.TempDir(), "keys", "activated.json")
		m := r.open()
		if _, err := m.Activate(context.Background(), token); err != nil {
			t.Fatal(err)
		}
		kf, err := license.LoadKeyFile(r.cfg.ActivatedKeyFile)
		if err != nil {
			t.Fatalf("the activated key is not a key file at Config.ActivatedKeyFile: %v", err)
		}
		if kf.Primary != token || !strings.HasPrefix(kf.Primary, "eyJ") {
			t.Fatal("the activated key file does not hold the key")
		}
	})
}
