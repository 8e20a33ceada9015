package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
	"github.com/licensekit/licensekit/controlplane/storetest"
)

func open(t *testing.T) controlplane.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cp.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }
