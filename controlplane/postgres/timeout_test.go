package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// TestStatementTimeout holds locks from another connection: a call that
// waits on them is cancelled by the database after the statement timeout
// (not by the caller's much longer deadline) and fails with
// ErrUnavailable, and the store's only connection is free again at once.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	u := freshDB(t)
	s, err := postgres.Open(ctx, u+"&pool_max_conns=1", postgres.StatementTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_a", Status: "active"}, nil); err != nil {
		t.Fatal(err)
	}

	other, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	lock := func(sql string) {
		t.Helper()
		if _, err := other.Exec(ctx, `BEGIN`); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	unlock := func() {
		t.Helper()
		if _, err := other.Exec(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
	}
	patient, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	wantTimeout := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, controlplane.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || patient.Err() != nil {
			t.Fatalf("%s behind a lock: %v, want ErrUnavailable from the statement timeout", what, err)
		}
	}

	// A row lock: the update waits for it, then gives up.
	lock(`SELECT 1 FROM licenses WHERE id = 'lic_a' FOR UPDATE`)
	_, err = s.UpdateLicense(patient, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
		l.Status = controlplane.StatusRevoked
		return nil, nil
	})
	wantTimeout("UpdateLicense", err)
	if _, err := s.GetLicense(ctx, "lic_a"); err != nil {
		t.Fatalf("GetLicense past a row lock: %v", err)
	}
	unlock()

	// A table lock: even reads wait, then give up.
	lock(`LOCK TABLE licenses IN ACCESS EXCLUSIVE MODE`)
	_, err = s.GetLicense(patient, "lic_a")
	wantTimeout("GetLicense", err)
	unlock()

	// Nothing was changed, and the connection serves the next call.
	l, err := s.GetLicense(ctx, "lic_a")
	if err != nil || l.Status != controlplane.StatusActive {
		t.Fatalf("after the timeouts: %+v, %v", l, err)
	}
	if _, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
		l.Status = controlplane.StatusSuspended
		return nil, nil
	}); err != nil {
		t.Fatalf("UpdateLicense after the timeouts: %v", err)
	}
}
