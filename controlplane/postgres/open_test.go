package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// TestOpenRefusesBadURLs needs no server: a URL that cannot be used is an
// error that says why, wraps ErrOpen and never repeats the password.
func TestOpenRefusesBadURLs(t *testing.T) {
	for _, c := range []struct{ url, says string }{
		{"", "postgres:// URL"},
		{"mysql://u:hunter2pw@db/x", "postgres:// URL"},
		{"/var/lib/licensekit.db", "postgres:// URL"},
		{"host=db user=u password=hunter2pw", "postgres:// URL"},
		{"postgres://u:hunter2pw@db:port/x", "invalid port"},
		{"postgres://u:hunter2pw@[::1/x", "missing ']'"},
		{"postgres://u:hunter2pw@db/x?sslmode=sometimes", "sslmode"},
		{"postgres://u:hunter2pw@db/x?connect_timeout=soon", "connect_timeout"},
		{"postgres://u:hunter2pw@db/x\x7f", "invalid control character"},
		{"postgres://u:hunter2pw%zz@db/x", "invalid URL escape"},
	} {
		s, err := postgres.Open(context.Background(), c.url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", c.url)
			continue
		}
		if !errors.Is(err, postgres.ErrOpen) {
			t.Errorf("Open(%q): %v, want ErrOpen", c.url, err)
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("Open(%q): %q does not say %q", c.url, err, c.says)
		}
		if strings.Contains(err.Error(), "hunter2pw") {
			t.Errorf("Open(%q): the error repeats the password: %v", c.url, err)
		}
	}
	if _, err := postgres.Open(context.Background(), "postgres://db/x", postgres.StatementTimeout(-time.Second)); !errors.Is(err, postgres.ErrOpen) {
		t.Errorf("Open with a negative statement timeout: %v, want ErrOpen", err)
	}
}

// TestOpenRefusedPort: nothing listens on the port, so Open fails at once
// with an error that says so and that the caller may retry later.
func TestOpenRefusedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	u := "postgres://licensekit:hunter2pw@" + addr + "/licensekit?sslmode=disable"
	s, err := postgres.Open(context.Background(), u)
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if !errors.Is(err, postgres.ErrOpen) || !errors.Is(err, controlplane.ErrUnavailable) {
		t.Fatalf("Open of a closed port: %v, want ErrOpen and ErrUnavailable", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "connection refused") || !strings.Contains(msg, addr) || strings.Contains(msg, "hunter2pw") {
		t.Fatalf("Open of a closed port: %q should name the address and the refusal, and not the password", msg)
	}
}

func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	u := freshDB(t)
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_a", Status: "active"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopening at the same version keeps the data and migrates nothing.
	s, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatalf("licence after reopening: %v", err)
	}
	s.Close()

	adminExec(t, u, fmt.Sprintf(`UPDATE schema_version SET version = %d`, postgres.SchemaVersion()+1))
	if s, err := postgres.Open(ctx, u); !errors.Is(err, controlplane.ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
	adminExec(t, u, fmt.Sprintf(`UPDATE schema_version SET version = %d`, postgres.SchemaVersion()))
	s, err = postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("reopen at the version of this binary: %v", err)
	}
	defer s.Close()
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatalf("licence after a refused open: %v", err)
	}
}

// TestConcurrentOpensMigrateOnce starts servers together on an empty
// database: the advisory lock lets one migrate while the others wait.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	u := freshDB(t)
	const n = 8
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(context.Background(), u)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	ctx := context.Background()
	if err := stores[0].CreateLicense(ctx, controlplane.License{ID: "lic_a"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[n-1].GetLicense(ctx, "lic_a"); err != nil {
		t.Fatal(err)
	}
}
