package licensetest

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
)

// The SDK's field operations against the real control plane (which
// licensetest's control plane is): an air-gapped activation, a reset key
// reaching a running product without a restart, and a signing-key
// rotation the product follows through the keyset statement it is handed.

// airGapped opens a product in offline-activation mode with a key file of
// iss, and makes the control plane know its licence.
func airGapped(t *testing.T, iss *Issuer, cp *ControlPlane) *license.Manager {
	t.Helper()
	dir := t.TempDir()
	path := iss.WriteKeyFile(dir)
	cfg := license.Config{Keys: iss.Keyring(), KeyFile: path, AppID: "a", Issuer: "acme", StateDir: filepath.Join(dir, "s"), MachineID: "m1", OfflineActivation: true}
	m, err := license.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cp.known(m.Status().License.ID)
	return m
}

// activateOffline carries m's request to the control plane and its
// response back, and returns what importing it said.
func activateOffline(t *testing.T, cp *ControlPlane, m *license.Manager) error {
	t.Helper()
	req, err := m.OfflineRequest()
	if err != nil {
		t.Fatal(err)
	}
	status, resp := cp.do(http.MethodPost, "/licenses/"+m.Status().License.ID+"/offline-activation", json.RawMessage(req))
	if status != http.StatusOK {
		t.Fatalf("offline-activation answered %d: %s", status, resp)
	}
	return m.ImportOffline(resp)
}

// newSigningKey creates an EdDSA signing key and returns its kid.
func (cp *ControlPlane) newSigningKey() string {
	var ans struct {
		SK struct {
			KID string `json:"kid"`
		} `json:"signing_key"`
	}
	cp.must(http.MethodPost, "/signing-keys", map[string]string{"alg": "EdDSA"}, &ans)
	return ans.SK.KID
}

func TestInteropOffline(t *testing.T) {
	iss := NewIssuer(t, IssuerName("acme"))
	cp := NewControlPlane(iss)
	m := airGapped(t, iss, cp)
	if err := activateOffline(t, cp, m); err != nil {
		t.Fatal(err)
	}
	if s := m.Status(); s.State != license.StateActive {
		t.Fatalf("%s %v", s.State, s.Err)
	}
}

// An air-gapped product built with the old key alone activates after the
// vendor rotated to a new key: the response is signed by the key that
// signed its licence, which it trusts.
func TestInteropOfflineAfterRotation(t *testing.T) {
	iss := NewIssuer(t, IssuerName("acme"))
	cp := NewControlPlane(iss)
	m := airGapped(t, iss, cp)
	cp.must(http.MethodPost, "/signing-keys/"+cp.newSigningKey()+"/activate", nil, nil)
	if err := activateOffline(t, cp, m); err != nil {
		t.Fatalf("a product that knows only the old key: %v", err)
	}
	if s := m.Status(); s.State != license.StateActive {
		t.Fatalf("%s %v", s.State, s.Err)
	}
}

func TestInteropResetAndRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		iss := NewIssuer(t, IssuerName("acme"))
		cp := NewControlPlane(iss)
		dir := t.TempDir()
		path := iss.WriteKeyFile(dir)
		cfg := license.Config{Keys: iss.Keyring(), KeyFile: path, AppID: "a", Issuer: "acme", StateDir: filepath.Join(dir, "s"), MachineID: "m1"}
		cp.Configure(&cfg)
		m, err := license.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		synctest.Wait()
		id := m.Status().License.ID
		old := m.Status().License.IssuedAt
		time.Sleep(2 * time.Second)
		cp.change(id, "reset", map[string]string{"slot": "primary"})
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		s := m.Status()
		if !s.License.IssuedAt.After(old) || s.State != license.StateActive {
			t.Fatalf("reset key not delivered: %s %v, iat %v (old %v)", s.State, s.Err, s.License.IssuedAt, old)
		}
		// rotation
		kid := cp.newSigningKey()
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		cp.must(http.MethodPost, "/signing-keys/"+kid+"/activate", nil, nil)
		time.Sleep(20 * 24 * time.Hour)
		synctest.Wait()
		// 20 days on, every lease the product holds was signed by the new
		// key, which it knows only from the statement it was handed.
		s = m.Status()
		if s.State != license.StateActive {
			t.Fatalf("rotation not followed: %s %v, last error %v", s.State, s.Err, s.LastError)
		}
	})
}
