package serverapp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
)

// Two servers on one database, started together: they migrate it and
// make its first signing key once, publish the same keys, and both sign
// with the one active key; a key the other made at the same time is
// retired, not left published.
func TestSharedStartTogether(t *testing.T) {
	sh := startShared(t, "", 2)
	var kids [2][]string
	active := ""
	for i := range 2 {
		code, out := sh.adminCall(t, i, "GET", "/signing-keys", nil)
		if code != http.StatusOK {
			t.Fatalf("server %d: GET /signing-keys: %d %v", i, code, out)
		}
		n := 0
		for _, k := range out["signing_keys"].([]any) {
			k := k.(map[string]any)
			kids[i] = append(kids[i], k["kid"].(string))
			switch k["state"] {
			case "active":
				n++
				active = k["kid"].(string)
			case "retired":
			default:
				t.Fatalf("server %d: key %v is %v after the first starts: %v", i, k["kid"], k["state"], out)
			}
		}
		if n != 1 {
			t.Fatalf("server %d: %d active signing keys: %v", i, n, out)
		}
	}
	if !slices.Equal(kids[0], kids[1]) {
		t.Fatalf("the servers list different keys: %v and %v", kids[0], kids[1])
	}
	for i := range 2 {
		if kid := leaseKID(t, sh.issueMax(t, i, 1, nil).primary); kid != active {
			t.Fatalf("server %d signs with %s, the active key is %s", i, kid, active)
		}
	}
}

// Machines activating one licence through both servers at once bind at
// most max_machines: the database decides, not a lock of either process.
func TestSharedActivationsBindAtMostMax(t *testing.T) {
	sh := startShared(t, "", 2)
	const licences, max, machines = 4, 3, 16
	devs := []*heartbeat.Client{sh.device(t, 0), sh.device(t, 1)}
	for round := range licences {
		l := sh.issueMax(t, round%2, max, nil)
		var wg sync.WaitGroup
		errs := make([]error, machines)
		start := make(chan struct{})
		for i := range machines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = devs[i%2].Activate(context.Background(), deviceReq(l, fmt.Sprintf("fp-%d-%02d", round, i)))
			}()
		}
		close(start)
		wg.Wait()
		bound := 0
		for i, err := range errs {
			switch {
			case err == nil:
				bound++
			case errors.Is(err, heartbeat.ErrBoundElsewhere):
			default:
				t.Fatalf("licence %d, machine %d: %v", round, i, err)
			}
		}
		if bound != max {
			t.Fatalf("licence %d: %d machines bound through two servers, max_machines %d", round, bound, max)
		}
		for srv := range 2 {
			code, out := sh.adminCall(t, srv, "GET", "/machines?license_id="+l.id, nil)
			if code != http.StatusOK || len(out["machines"].([]any)) != max {
				t.Fatalf("server %d: GET /machines: %d %v", srv, code, out)
			}
		}
	}
}

// A suspend, restore or revoke made through one server is what the other
// answers at the machine's next beat.
func TestSharedStatusSeenAtNextBeat(t *testing.T) {
	sh := startShared(t, "", 2)
	ctx := context.Background()
	devs := []*heartbeat.Client{sh.device(t, 0), sh.device(t, 1)}
	l := sh.issueMax(t, 0, 1, nil)
	req := deviceReq(l, "fp-status")
	if _, err := devs[0].Activate(ctx, req); err != nil {
		t.Fatal(err)
	}
	// Beats faster than one a second are written before they are
	// answered, which drops a cached licence. Beat slower, as machines
	// do, through both servers, so that each reads the licence on the
	// path that would answer from a cached copy, were one kept.
	beat := func(srv int) (string, error) {
		time.Sleep(1100 * time.Millisecond)
		return beatStatus(ctx, devs[srv], req)
	}
	for srv := range 2 {
		if st, err := beat(srv); err != nil || st != heartbeat.StatusActive {
			t.Fatalf("server %d: beat %q %v", srv, st, err)
		}
	}
	steps := []struct {
		via      int
		op, want string
	}{
		{0, "suspend", heartbeat.StatusSuspended},
		{1, "restore", heartbeat.StatusActive},
		{1, "revoke", heartbeat.StatusRevoked},
	}
	for _, s := range steps {
		if code, out := sh.adminCall(t, s.via, "POST", "/licenses/"+l.id+"/"+s.op, nil); code != http.StatusOK {
			t.Fatalf("%s through server %d: %d %v", s.op, s.via, code, out)
		}
		other := 1 - s.via
		if st, err := beat(other); err != nil || st != s.want {
			t.Fatalf("after %s through server %d, server %d answered %q %v, want %q", s.op, s.via, other, st, err, s.want)
		}
	}
}

// Two sweeps at once, one through each server, expire each licence once
// and audit it once.
func TestSharedSweepOnce(t *testing.T) {
	sh := startShared(t, "", 2)
	const n = 12
	var ids []string
	for i := range n {
		ids = append(ids, sh.issueMax(t, i%2, 1, map[string]any{"ttl": "2s"}).id)
	}
	keep := sh.issueMax(t, 0, 1, nil).id // not due
	time.Sleep(3 * time.Second)
	var wg sync.WaitGroup
	outs := make([]map[string]any, 2)
	codes := make([]int, 2)
	start := make(chan struct{})
	for srv := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[srv], outs[srv] = call(t, sh.admin, "POST", sh.servers[srv].url+"/licenses/health/sweep", adminSecret, nil)
		}()
	}
	close(start)
	wg.Wait()
	var expired []string
	for srv := range 2 {
		if codes[srv] != http.StatusOK {
			t.Fatalf("sweep through server %d: %d %v", srv, codes[srv], outs[srv])
		}
		for _, id := range outs[srv]["expired"].([]any) {
			expired = append(expired, id.(string))
		}
	}
	slices.Sort(expired)
	slices.Sort(ids)
	if !slices.Equal(expired, ids) {
		t.Fatalf("the two sweeps expired %v together, want each of %v once", expired, ids)
	}
	code, out := sh.adminCall(t, 1, "GET", "/audit?action=license.sweep&limit=1000", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /audit: %d %v", code, out)
	}
	var audited []string
	for _, e := range out["events"].([]any) {
		audited = append(audited, e.(map[string]any)["target"].(string))
	}
	slices.Sort(audited)
	if !slices.Equal(audited, ids) {
		t.Fatalf("sweep events for %v, want one for each of %v", audited, ids)
	}
	for _, id := range append(ids[:1:1], keep) {
		code, out := sh.adminCall(t, 0, "GET", "/licenses/"+id, nil)
		want := "expired"
		if id == keep {
			want = "active"
		}
		if code != http.StatusOK || out["license"].(map[string]any)["status"] != want {
			t.Fatalf("licence %s after the sweeps: %d %v, want %s", id, code, out, want)
		}
	}
}
