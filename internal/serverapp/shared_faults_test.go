package serverapp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/internal/pgtest"
)

// A kill -9 of one of two servers while both issue licences: the other
// keeps answering, and every licence either answered 201 is there.
func TestSharedKill9OneOfTwo(t *testing.T) {
	sh := startShared(t, "", 2)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	var mu sync.Mutex
	acked := map[int][]string{}
	var afterKill atomic.Int64
	var killed atomic.Bool
	stop := make(chan struct{})
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 8 {
		srv := w % 2
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id, ok := issueQuiet(client, sh.servers[srv].url)
				if !ok {
					if srv == 0 {
						return // the killed one
					}
					continue
				}
				if id == "" {
					continue
				}
				mu.Lock()
				acked[srv] = append(acked[srv], id)
				if len(acked[0]) >= 40 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
				if srv == 1 && killed.Load() {
					afterKill.Add(1)
				}
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		t.Fatal("too few licences issued")
	}
	sh.servers[0].kill9(t)
	killed.Store(true)
	_, err := eventually(20*time.Second, func() error {
		if n := afterKill.Load(); n < 40 {
			return fmt.Errorf("server 1 answered %d issues after the kill", n)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for srv, ids := range acked {
		for _, id := range ids {
			if code, out := sh.adminCall(t, 1, "GET", "/licenses/"+id, nil); code != http.StatusOK {
				t.Fatalf("licence %s answered 201 by server %d: GET through the survivor %d %v", id, srv, code, out)
			}
		}
	}
	t.Logf("acknowledged: %d by the killed server, %d by the survivor (%d after the kill), all found", len(acked[0]), len(acked[1]), afterKill.Load())
}

// PostgreSQL stopped and started under load: both servers answer 503
// (which the SDK retries) while it is down, and answer again once it is
// back, without a restart.
func TestSharedPostgresRestart(t *testing.T) {
	pg := pgtest.StartPrivate(t)
	sh := startShared(t, pg.URL, 2)
	ctx := context.Background()
	devs := []*heartbeat.Client{sh.device(t, 0), sh.device(t, 1)}
	var reqs []heartbeat.Request
	for i := range 8 {
		l := sh.issueMax(t, i%2, 1, nil)
		r := deviceReq(l, fmt.Sprintf("fp-restart-%d", i))
		if _, err := devs[i%2].Activate(ctx, r); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	// Load: every machine beats twice a second, through each server in
	// turn (faster, a machine's lease would run more than the 10 s ahead
	// of the clock a server allows, and be refused 429); each answer's
	// status is counted in its phase.
	var phase atomic.Int32 // 0 up, 1 down, 2 back
	var mu sync.Mutex
	seen := [3]map[string]int{{}, {}, {}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(500 * time.Millisecond):
				}
				p := phase.Load()
				_, err := devs[n%2].Heartbeat(ctx, r)
				mu.Lock()
				seen[p][outcome(err)]++
				mu.Unlock()
			}
		}()
	}
	health := func(srv int) int {
		code, _ := call(t, sh.admin, "GET", sh.servers[srv].url+"/healthz", "", nil)
		return code
	}
	time.Sleep(time.Second)
	phase.Store(1)
	pg.Stop()
	for srv := range 2 {
		if _, err := eventually(10*time.Second, func() error {
			if code := health(srv); code != http.StatusServiceUnavailable {
				return fmt.Errorf("server %d: /healthz %d while PostgreSQL is down", srv, code)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if code, out := sh.adminCall(t, srv, "POST", "/licenses", map[string]any{"tenant_id": "ten_down", "plan": "yearly"}); code != http.StatusServiceUnavailable {
			t.Fatalf("server %d: POST /licenses while PostgreSQL is down: %d %v", srv, code, out)
		}
	}
	time.Sleep(2 * time.Second)
	pg.Start()
	phase.Store(2)
	for srv := range 2 {
		if _, err := eventually(30*time.Second, func() error {
			if code := health(srv); code != http.StatusOK {
				return fmt.Errorf("server %d: /healthz %d after PostgreSQL came back", srv, code)
			}
			_, err := devs[srv].Heartbeat(ctx, reqs[srv])
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("beats answered: before %v, while down %v, after %v", seen[0], seen[1], seen[2])
	for p, m := range seen {
		for k := range m {
			if k != "ok" && !(p > 0 && k == "503") {
				t.Errorf("phase %d: beats answered %q: %v", p, k, m)
			}
		}
	}
	if seen[1]["503"] == 0 || seen[2]["ok"] == 0 {
		t.Fatalf("no 503 while down or no success after: %v", seen)
	}
	// The servers still change state in the database after the restart.
	l := sh.issueMax(t, 0, 1, nil)
	if code, out := sh.adminCall(t, 1, "GET", "/licenses/"+l.id, nil); code != http.StatusOK {
		t.Fatalf("after the restart: %d %v", code, out)
	}
}

// outcome names a beat's result: "ok", "503" for an answer the SDK
// retries, else what it was.
func outcome(err error) string {
	var he *heartbeat.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &he) && he.StatusCode == http.StatusServiceUnavailable && heartbeat.IsTransient(err):
		return "503"
	case errors.As(err, &he):
		return fmt.Sprintf("%d %s", he.StatusCode, he.Code)
	}
	return err.Error()
}

// A statement stuck on a lock held outside the servers gives up after the
// statement timeout (5 s) with 503, while the same server keeps answering
// other calls: the stuck one holds no connection for longer.
func TestSharedStatementTimeout(t *testing.T) {
	sh := startShared(t, "", 1)
	l := sh.issueMax(t, 0, 1, nil)
	other := sh.issueMax(t, 0, 1, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sh.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM licenses WHERE id = $1 FOR UPDATE`, l.id); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		code int
		out  map[string]any
		took time.Duration
	}
	done := make(chan answer, 1)
	go func() {
		t0 := time.Now()
		code, out := call(t, sh.admin, "POST", sh.servers[0].url+"/licenses/"+l.id+"/suspend", adminSecret, nil)
		done <- answer{code, out, time.Since(t0)}
	}()
	// Meanwhile the server answers what does not wait for that lock, more
	// calls than its pool has connections.
	for i := range 20 {
		if code, out := sh.adminCall(t, 0, "GET", "/licenses/"+other.id, nil); code != http.StatusOK {
			t.Fatalf("call %d while a statement waits: %d %v", i, code, out)
		}
	}
	a := <-done
	if a.code != http.StatusServiceUnavailable || a.took < 4*time.Second || a.took > 10*time.Second {
		t.Fatalf("suspend waiting on a held lock: %d %v after %v, want 503 after about 5s", a.code, a.out, a.took)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out := sh.adminCall(t, 0, "POST", "/licenses/"+l.id+"/suspend", nil); code != http.StatusOK {
		t.Fatalf("suspend once the lock is gone: %d %v", code, out)
	}
	t.Logf("the stuck suspend answered 503 after %v", a.took.Round(time.Millisecond))
}
