package license_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// A systemd unit with StateDirectory= gets its state there when
// Config.StateDir is empty.
func TestOpenDefaultStateDirFromSystemd(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(license.EnvStateDirectory, dir)
	iss := licensetest.NewIssuer(t)
	m, err := license.Open(context.Background(), license.Config{Keys: iss.Keyring(), AppID: "acme-appliance", MachineID: "machine-A"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Activate(context.Background(), iss.Mint()); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "activated-*.json")); len(files) != 1 {
		t.Fatalf("nothing kept in $STATE_DIRECTORY: %v", files)
	}
	if got, err := license.DefaultStateDir("acme-appliance"); err != nil || got != dir {
		t.Fatalf("DefaultStateDir = %q, %v; want %q", got, err, dir)
	}
}
