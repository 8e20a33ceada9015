package serverapp_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/internal/serverapp"
)

// A second server on a database that has signing keys refuses to start
// without the shared secret key file, making none, and with another key
// file, naming both.
func TestSharedSecretKeyFile(t *testing.T) {
	sh := startShared(t, "", 1)
	dir := t.TempDir()
	none := func(string) string { return "" }
	missing := filepath.Join(dir, "missing.secret")
	var stderr bytes.Buffer
	code := serverapp.Main(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", sh.db, "--secret-key-file", missing}, none, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "the database holds signing keys but the secret key file "+missing+" does not exist") {
		t.Fatalf("without the key file: exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a key file was made: %v", err)
	}
	other := filepath.Join(dir, "other.secret")
	if _, err := controlplane.LoadOrCreateSecretKey(other); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	code = serverapp.Main(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", sh.db, "--secret-key-file", other}, none, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "the secret key file "+other+" does not open the signing keys") ||
		!strings.Contains(stderr.String(), "every server of one database uses the same file") {
		t.Fatalf("with another key file: exit %d: %s", code, stderr.String())
	}
}
