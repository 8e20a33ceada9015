package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
	"github.com/licensekit/licensekit/heartbeat"
)

// sqliteServer starts a Server over its own handle of the SQLite file at
// path, as one server process would.
func sqliteServer(t *testing.T, path string, c *clock) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := controlplane.New(context.Background(), controlplane.Config{
		Store: st, Issuer: issuer, AdminKey: adminSecret, Clock: c.Now, SecretKey: testSecretKey(),
		DeviceRateLimit: controlplane.RateLimit{PerSecond: -1}, AdminRateLimit: controlplane.RateLimit{PerSecond: -1},
		FlushInterval: time.Hour,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &harness{t: t, srv: srv, clock: c}
}

// Many sweeps at once, through the HTTP API of two processes over one
// SQLite database, give the result of one: every change made and audited
// exactly once; a sweep after them changes nothing.
func TestAttackSQLiteConcurrentSweeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	c := &clock{t: t0}
	a := sqliteServer(t, path, c)
	b := sqliteServer(t, path, c)
	const n = 12
	for i := range n {
		l := a.issue(fmt.Sprintf("ten_%d", i%3), map[string]any{"ttl": "1d"})
		if i%2 == 0 {
			if _, err := a.activate(l, l.Primary, "fp-"+l.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := a.events()
	c.Add(controlplane.DefaultGrace + 2*24*time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	expired, dead := map[string]int{}, map[string]int{}
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := a
			if i%2 == 1 {
				h = b
			}
			rec := h.do("POST", "/licenses/health/sweep", adminSecret, nil)
			if rec.Code != 200 {
				t.Errorf("sweep %d: %d %s", i, rec.Code, rec.Body.String())
				return
			}
			out := decode(t, rec.Body.Bytes())
			mu.Lock()
			defer mu.Unlock()
			for _, id := range out["expired"].([]any) {
				expired[id.(string)]++
			}
			for _, m := range out["dead"].([]any) {
				dead[m.(map[string]any)["license_id"].(string)]++
			}
		}()
	}
	wg.Wait()
	if len(expired) != n || len(dead) != n/2 {
		t.Fatalf("%d licences expired and %d machines dead, want %d and %d", len(expired), len(dead), n, n/2)
	}
	for id, k := range expired {
		if k != 1 {
			t.Errorf("licence %s reported expired by %d sweeps", id, k)
		}
	}
	for id, k := range dead {
		if k != 1 {
			t.Errorf("machine of %s reported dead by %d sweeps", id, k)
		}
	}
	after := a.events()
	if got := after - before; got != n+n/2+0 {
		t.Fatalf("%d audit events from the sweeps, want %d", got, n+n/2)
	}
	out := b.must(200, "POST", "/licenses/health/sweep", adminSecret, nil)
	if len(out["expired"].([]any)) != 0 || len(out["dead"].([]any)) != 0 || a.events() != after {
		t.Fatalf("a sweep after the sweeps changed something: %v", out)
	}
}

// Activations of one licence from many machines at once, through two
// processes over one SQLite database, bind at most max_machines.
func TestAttackSQLiteConcurrentActivationsTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	c := &clock{t: t0}
	a := sqliteServer(t, path, c)
	b := sqliteServer(t, path, c)
	l := a.issue("ten_a", map[string]any{"max_machines": 3})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := a
			if i%2 == 1 {
				h = b
			}
			_, err := h.activate(l, l.Primary, fmt.Sprintf("fp-%02d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, heartbeat.ErrBoundElsewhere):
			default:
				var he *heartbeat.Error
				if !errors.As(err, &he) || he.StatusCode != 409 && he.StatusCode != 503 {
					t.Errorf("activation %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	got := a.must(200, "GET", "/licenses/"+l.ID, adminSecret, nil)["license"].(map[string]any)
	if n := len(got["machines"].([]any)); n != 3 || ok != 3 {
		t.Fatalf("%d bindings stored, %d activations answered 200; want 3 and 3", n, ok)
	}
}

// After a crash over SQLite (the buffered beats never written), the next
// process never repeats a lease's iat.
func TestAttackSQLiteLeaseOrderAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.db")
	c := &clock{t: t0}
	a := sqliteServer(t, path, c)
	l := a.issue("ten_a", nil)
	if _, err := a.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	var newest time.Time
	for range 3 {
		resp, err := a.beat(l, l.Primary, "fp-A")
		if err != nil {
			t.Fatal(err)
		}
		newest = a.lease(resp, l.ID, "fp-A").IssuedAt
	}
	b := sqliteServer(t, path, c) // a's buffer is never written before b answers
	resp, err := b.beat(l, l.Primary, "fp-A")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.lease(resp, l.ID, "fp-A").IssuedAt; !got.After(newest) {
		t.Fatalf("iat %v after the crash, not after %v", got, newest)
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return out
}
