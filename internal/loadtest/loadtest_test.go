package loadtest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/loadtest"
	"github.com/licensekit/licensekit/internal/pgtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A short run with few clients answers every beat, against both servers.
// A correctness check of the load generator and the servers under
// concurrency; no figure is asserted.
func TestSmoke(t *testing.T) {
	var out bytes.Buffer
	rep, err := loadtest.Run(context.Background(), loadtest.Config{Licences: 10, Clients: 4,
		Duration: time.Second, Warmup: -1, Dir: t.TempDir()}, &out)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	for _, r := range []loadtest.Result{rep.Floor, rep.Server} {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (first: %v)", r.Name, r.Requests, r.Errors, r.FirstErr)
		}
		if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
			t.Errorf("%s: percentiles out of order: %v %v %v", r.Name, r.P50, r.P99, r.Max)
		}
	}
	for _, want := range []string{"floor (net/http + mint Ed25519)", "control plane (SQLite)", "control plane / floor:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []loadtest.Config{{Licences: -1}, {Clients: 5000}, {Duration: 2 * time.Hour},
		{DB: "mysql://x"}, {Servers: 2}, {Servers: 3, DB: "postgres://x"}, {DB: "postgres://x", LicenseCache: time.Hour}} {
		if _, err := loadtest.Run(context.Background(), c, &bytes.Buffer{}); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// The same on PostgreSQL, against one server and two on one database:
// every beat answered, none lost, and the costs counted.
func TestSmokePostgres(t *testing.T) {
	var out bytes.Buffer
	rep, err := loadtest.Run(context.Background(), loadtest.Config{Licences: 10, Clients: 4,
		Duration: time.Second, Warmup: -1, Dir: t.TempDir(), DB: pgtest.ServerURL(t), Servers: 2}, &out)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	for _, r := range []loadtest.Result{rep.Floor, rep.Server, rep.Two} {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (first: %v)", r.Name, r.Requests, r.Errors, r.FirstErr)
		}
	}
	if rep.Checked != 20 || rep.Lost != 0 {
		t.Errorf("%d machines checked, %d lost", rep.Checked, rep.Lost)
	}
	// An activation locks and reads, then writes the licence, its new
	// binding and an event; a beat reads the licence, and its bookkeeping
	// goes in one batched statement with the other beats.
	c := rep.Costs
	if c == nil || c.ActivationTrips != 2*int64(c.Activations) || c.ActivationRows != 3*int64(c.Activations) ||
		c.BeatRows != int64(c.Beats) || c.BeatTrips < int64(c.Beats) || c.BeatTrips > int64(c.Beats)+3 {
		t.Errorf("costs %+v", c)
	}
	for _, want := range []string{"control plane (PostgreSQL, 1 server)", "control plane (PostgreSQL, 2 servers)", "lost: 0 of 20", "heartbeat:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
