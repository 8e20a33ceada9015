package postgres_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// privateServer starts a PostgreSQL server of the test's own with the
// repository's .ci/postgres, so that stopping it disturbs no other test,
// and returns its URL and a function that runs the script's stop or
// start on it. Cleanup removes it.
func privateServer(t *testing.T) (string, func(cmd string)) {
	t.Helper()
	serverURL(t)
	script, err := filepath.Abs(filepath.Join("..", "..", ".ci", "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "licensekit-pg-restart-")
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the postgres user when we are root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "LICENSEKIT_PG_DIR="+filepath.Join(dir, "pg"), "LICENSEKIT_PG_NO_INSTALL=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		if _, err := run("destroy"); err != nil {
			t.Errorf("destroy the private server: %v", err)
		}
		os.RemoveAll(dir)
	})
	out, err := run("start")
	if err != nil {
		t.Fatalf("start a private server with %s: %v", script, err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(out), "LICENSEKIT_TEST_POSTGRES='")
	u, _, ok2 := strings.Cut(u, "'")
	if !ok || !ok2 {
		t.Fatalf("%s printed %q", script, out)
	}
	return u, func(cmd string) {
		t.Helper()
		if _, err := run(cmd); err != nil {
			t.Fatalf("%s %s: %v", script, cmd, err)
		}
	}
}

// TestRestartRecovers stops and starts PostgreSQL under load: while it is
// down every call fails with ErrUnavailable (the server's 503), and once
// it is back calls succeed again through the same Store, reopening
// nothing. No acknowledged update is lost.
func TestRestartRecovers(t *testing.T) {
	u, ctl := privateServer(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateLicense(ctx, controlplane.License{ID: "lic_a", Status: controlplane.StatusActive,
		Machines: []controlplane.Machine{{Fingerprint: "fp"}}}, nil); err != nil {
		t.Fatal(err)
	}

	var (
		stop               = make(chan struct{})
		wg                 sync.WaitGroup
		ok, failed         atomic.Int64
		acked, attempted   atomic.Int64
		mu                 sync.Mutex
		unexpected         []error
		beat               atomic.Int64
		lastErr            atomic.Value
		t0                 = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		callCtx, cancelAll = context.WithCancel(ctx)
	)
	defer cancelAll()
	note := func(err error) {
		if err == nil {
			ok.Add(1)
			return
		}
		failed.Add(1)
		lastErr.Store(err)
		if !errors.Is(err, controlplane.ErrUnavailable) {
			mu.Lock()
			unexpected = append(unexpected, err)
			mu.Unlock()
		}
	}
	for g := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, cancel := context.WithTimeout(callCtx, 10*time.Second)
				switch g % 3 {
				case 0:
					_, err := s.GetLicense(c, "lic_a")
					note(err)
				case 1:
					attempted.Add(1)
					_, err := s.UpdateLicense(c, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
						l.MaxMachines++
						return nil, nil
					})
					if err == nil {
						acked.Add(1)
					}
					note(err)
				case 2:
					at := t0.Add(time.Duration(beat.Add(1)) * time.Millisecond)
					note(s.RecordBeats(c, []controlplane.Beat{{LicenseID: "lic_a", Fingerprint: "fp", At: at}}))
				}
				cancel()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute (ok %d, failed %d, last error %v)", what, ok.Load(), failed.Load(), lastErr.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("calls under load", func() bool { return ok.Load() > 50 })

	ctl("stop")
	// Down: every call fails, as unavailable.
	waitFor("failures while down", func() bool { return failed.Load() > 20 })
	if err := s.Ping(ctx); !errors.Is(err, controlplane.ErrUnavailable) {
		t.Fatalf("Ping while PostgreSQL is down: %v, want ErrUnavailable", err)
	}
	if _, err := s.GetLicense(ctx, "lic_a"); !errors.Is(err, controlplane.ErrUnavailable) {
		t.Fatalf("GetLicense while PostgreSQL is down: %v, want ErrUnavailable", err)
	}

	ctl("start")
	before := ok.Load()
	waitFor("calls after the restart", func() bool { return ok.Load() > before+50 })
	// Recovered: a stretch of load without a failure.
	time.Sleep(500 * time.Millisecond)
	failedBefore, okBefore := failed.Load(), ok.Load()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if n := failed.Load() - failedBefore; n != 0 || ok.Load() == okBefore {
		t.Fatalf("after recovering: %d failures, %d successes (last error %v)", n, ok.Load()-okBefore, lastErr.Load())
	}
	if len(unexpected) > 0 {
		t.Fatalf("%d failures were not ErrUnavailable, e.g. %v", len(unexpected), unexpected[0])
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after the restart: %v", err)
	}
	l, err := s.GetLicense(ctx, "lic_a")
	if err != nil {
		t.Fatal(err)
	}
	// An update may have committed while its answer was lost with the
	// connection; none acknowledged is missing.
	if n := int64(l.MaxMachines); n < acked.Load() || n > attempted.Load() {
		t.Fatalf("%d updates stored, %d acknowledged of %d attempted", n, acked.Load(), attempted.Load())
	}
	t.Logf("%d calls answered, %d failed while PostgreSQL was down; %d updates acknowledged", ok.Load(), failed.Load(), acked.Load())
}
