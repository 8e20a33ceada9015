package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

func TestOpenRefusesBadPaths(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database, not at all. ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"", ":memory:", "file:x.db", filepath.Join(dir, "a?mode=ro"), filepath.Join(dir, "a#b"), "a\x00b",
		filepath.Join(dir, "missing", "dir", "cp.db"), // a directory that does not exist
		dir,                          // a directory
		filepath.Join(file, "cp.db"), // under a regular file
		garbage,                      // not a database
	} {
		s, err := sqlite.Open(context.Background(), path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
			continue
		}
		if !errors.Is(err, sqlite.ErrOpen) {
			t.Errorf("Open(%q): %v, want ErrOpen", path, err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", path)) {
			t.Errorf("Open(%q): %v does not name the path", path, err)
		}
	}
	if b, _ := os.ReadFile(garbage); !strings.HasPrefix(string(b), "not a database") {
		t.Fatal("Open changed a file that is not a database")
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	for _, o := range []sqlite.Option{sqlite.Readers(0), sqlite.BusyTimeout(-time.Second)} {
		if _, err := sqlite.Open(context.Background(), path, o); !errors.Is(err, sqlite.ErrOpen) {
			t.Errorf("Open with a bad option: %v, want ErrOpen", err)
		}
	}
}

// setVersion writes schema_version behind the store's back.
func setVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE schema_version SET version = ?`, v); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_a", Status: "active"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening at the same version keeps the data and migrates nothing.
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatalf("licence after reopening: %v", err)
	}
	s.Close()

	setVersion(t, path, sqlite.SchemaVersion()+1)
	if s, err := sqlite.Open(ctx, path); !errors.Is(err, controlplane.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	setVersion(t, path, sqlite.SchemaVersion())
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen at the version of this binary: %v", err)
	}
	defer s.Close()
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatalf("licence after a refused open: %v", err)
	}
}

func TestConcurrentOpensMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	const n = 6
	stores := make([]*sqlite.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(context.Background(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Every handle sees one schema: what one writes, another reads.
	ctx := context.Background()
	if err := stores[0].CreateLicense(ctx, controlplane.License{ID: "lic_a"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[n-1].GetLicense(ctx, "lic_a"); err != nil {
		t.Fatal(err)
	}
}

// TestTwoHandlesDecideRacesInTheDatabase binds machines through two
// stores on one file, as two server processes would: the database's write
// lock, not a lock of one Store, keeps the bound count under the maximum.
func TestTwoHandlesDecideRacesInTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	a, b := open2(t, path), open2(t, path)
	const max, clients = 3, 20
	if err := a.CreateLicense(ctx, controlplane.License{ID: "lic_a", MaxMachines: max}, nil); err != nil {
		t.Fatal(err)
	}
	full := errors.New("full")
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range clients {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, errs[i] = s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
				if len(l.Machines) >= l.MaxMachines {
					return nil, full
				}
				l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: fmt.Sprint("fp", i)})
				return nil, nil
			})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, full):
		default:
			t.Errorf("client %d: %v", i, err)
		}
	}
	l, err := b.GetLicense(ctx, "lic_a")
	if err != nil {
		t.Fatal(err)
	}
	if ok != max || len(l.Machines) != max {
		t.Fatalf("%d bindings acknowledged, %d stored; want %d", ok, len(l.Machines), max)
	}
}

func open2(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBusyDatabase holds the write lock from another connection: an
// update then fails with ErrConflict (retryable) and other writes with
// ErrUnavailable, once the busy timeout has run out; reads go on.
func TestBusyDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.db")
	s := open2(t, path, sqlite.BusyTimeout(50*time.Millisecond))
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_a"}, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) { return nil, nil })
	if !errors.Is(err, controlplane.ErrConflict) {
		t.Errorf("UpdateLicense while locked: %v, want ErrConflict", err)
	}
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_b"}, nil); !errors.Is(err, controlplane.ErrUnavailable) {
		t.Errorf("CreateLicense while locked: %v, want ErrUnavailable", err)
	}
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Errorf("GetLicense while locked: %v", err)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_b"}, nil); err != nil {
		t.Errorf("CreateLicense once unlocked: %v", err)
	}
}
