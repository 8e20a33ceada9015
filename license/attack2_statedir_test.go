//go:build unix

package license_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// A state directory any local user may write to lets any of them delete
// the grace state (which forgets the clock's high-water mark and, after a
// restore, a revocation) or plant files beside it: Open refuses it, and
// says how to fix it.
func TestAttack2WorldWritableStateDir(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := license.Config{Keys: iss.Keyring(), AppID: "acme-appliance", StateDir: dir, Issuer: "acme", MachineID: "machine-A"}
	m, err := license.Open(context.Background(), cfg)
	if err == nil {
		m.Close()
		t.Fatal("Open accepted a world-writable state directory")
	}
	if !errors.Is(err, license.ErrConfig) || !strings.Contains(err.Error(), "Config.StateDir") || !strings.Contains(err.Error(), "writable") {
		t.Fatalf("Open = %v, want ErrConfig naming Config.StateDir and why", err)
	}
	// Made private again, it is fine; so is a group-writable one (a
	// service group's choice).
	for _, mode := range []os.FileMode{0o700, 0o770} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		m, err := license.Open(context.Background(), cfg)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		m.Close()
	}
}
