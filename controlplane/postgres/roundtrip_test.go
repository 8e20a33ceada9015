package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// countRows installs triggers that count every row inserted, updated or
// deleted in the store's tables, and returns a function that reads the
// count.
func countRows(t testing.TB, u string) func() int64 {
	t.Helper()
	adminExec(t, u, `CREATE SEQUENCE rows_written`, `CREATE FUNCTION count_row() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN PERFORM nextval('rows_written'); RETURN NULL; END $$`)
	for _, tbl := range []string{"licenses", "machines", "idempotency", "settings", "signing_keys", "api_keys", "events"} {
		adminExec(t, u, `CREATE TRIGGER count_rows AFTER INSERT OR UPDATE OR DELETE ON `+tbl+` FOR EACH ROW EXECUTE FUNCTION count_row()`)
	}
	return func() int64 {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int64
		var called bool
		if err := conn.QueryRow(ctx, `SELECT last_value, is_called FROM rows_written`).Scan(&n, &called); err != nil {
			t.Fatal(err)
		}
		if !called {
			return 0
		}
		return n
	}
}

// TestRoundTripsAndRowsWritten holds the store to its design: how many
// round trips each hot call takes, and how many rows it writes.
func TestRoundTripsAndRowsWritten(t *testing.T) {
	ctx := context.Background()
	u := freshDB(t)
	var trips atomic.Int64
	s, err := postgres.Open(ctx, u+"&pool_max_conns=1", postgres.CountRoundTrips(&trips))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := countRows(t, u)
	t0 := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	licence := func(i int) controlplane.License {
		return controlplane.License{ID: fmt.Sprintf("lic_%04d", i), TenantID: "ten_a", Status: controlplane.StatusActive,
			Audience: []string{"Acme"}, ExpiresAt: t0.Add(time.Hour), MaxMachines: 3,
			Machines: []controlplane.Machine{{Fingerprint: "fp_0", LeaseExpiresAt: t0.Add(time.Hour)}}}
	}
	n := 0
	calls := []struct {
		name        string
		trips, rows int64
		call        func() error
	}{
		{"CreateLicense with a machine and an event", 1, 3, func() error {
			n++
			return s.CreateLicense(ctx, licence(n), nil, controlplane.Event{Action: "license.issue"})
		}},
		{"GetLicense", 1, 0, func() error { _, err := s.GetLicense(ctx, "lic_0001"); return err }},
		{"ListLicenses", 1, 0, func() error { _, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{}); return err }},
		{"UpdateLicense binding a machine (an activation)", 2, 3, func() error {
			_, err := s.UpdateLicense(ctx, "lic_0001", func(l *controlplane.License) ([]controlplane.Event, error) {
				l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: fmt.Sprint("fp_", len(l.Machines))})
				l.UpdatedAt = l.UpdatedAt.Add(time.Second)
				return []controlplane.Event{{Action: "license.activate"}}, nil
			})
			return err
		}},
		{"UpdateLicense releasing a machine", 2, 3, func() error {
			_, err := s.UpdateLicense(ctx, "lic_0001", func(l *controlplane.License) ([]controlplane.Event, error) {
				l.Machines = l.Machines[:len(l.Machines)-1]
				return []controlplane.Event{{Action: "license.deactivate"}}, nil
			})
			return err
		}},
		{"RecordBeats of 64 bindings", 1, 64, func() error {
			n++
			var beats []controlplane.Beat
			for i := range 64 {
				at := t0.Add(time.Duration(n) * time.Minute)
				beats = append(beats, controlplane.Beat{LicenseID: fmt.Sprintf("lic_%04d", i+1), Fingerprint: "fp_0", At: at,
					DueAt: at.Add(time.Hour), LeaseIssuedAt: at, LeaseExpiresAt: at.Add(72 * time.Hour)})
			}
			return s.RecordBeats(ctx, beats)
		}},
		{"Sweep with nothing to do", 1, 0, func() error { _, err := s.Sweep(ctx, t0, "system", "req"); return err }},
		{"AppendEvents", 1, 2, func() error {
			return s.AppendEvents(ctx, controlplane.Event{Action: "a"}, controlplane.Event{Action: "b"})
		}},
	}
	for range 70 {
		if err := calls[0].call(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range calls {
		// The first call on a connection prepares its statements: count
		// the second.
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		trips0, rows0 := trips.Load(), rows()
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		gotTrips, gotRows := trips.Load()-trips0, rows()-rows0
		t.Logf("%-50s %d round trips, %3d rows written", c.name, gotTrips, gotRows)
		if gotTrips != c.trips || gotRows != c.rows {
			t.Errorf("%s: %d round trips and %d rows written, want %d and %d", c.name, gotTrips, gotRows, c.trips, c.rows)
		}
	}
}
