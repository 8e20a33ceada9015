package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
	"go.uber.org/goleak"
)

// crashEnv names the database a re-executed test binary issues licences
// into until it is killed.
const crashEnv = "LICENSEKIT_POSTGRES_CRASH_CHILD_URL"

func TestMain(m *testing.M) {
	if u := os.Getenv(crashEnv); u != "" {
		crashChild(u)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

var crashT0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func crashLicense(i int) controlplane.License {
	id := fmt.Sprintf("lic_%07d", i)
	return controlplane.License{
		ID: id, TenantID: "ten_crash", Status: controlplane.StatusActive, Plan: "yearly",
		Audience: []string{"Crash GmbH"}, Metadata: map[string]string{"n": fmt.Sprint(i)},
		IssuedAt: crashT0, ExpiresAt: crashT0.AddDate(1, 0, 0), MaxMachines: 2,
		Primary: "eyJ.p." + id, Secondary: "eyJ.s." + id,
		Machines: []controlplane.Machine{{Fingerprint: "fp_issue", ActivatedAt: crashT0, LeaseExpiresAt: crashT0.Add(time.Hour)}},
	}
}

// crashChild issues and binds licences in a loop and prints each ID once
// the store call has returned, until it is killed.
func crashChild(u string) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	for i := 0; ; i++ {
		l := crashLicense(i)
		if err := s.CreateLicense(ctx, l, nil, controlplane.Event{Time: crashT0, Action: "license.issue", Target: l.ID, TenantID: l.TenantID}); err != nil {
			fmt.Println("create:", err)
			return
		}
		fmt.Println("issued", l.ID)
		_, err := s.UpdateLicense(ctx, l.ID, func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: "fp_bound", ActivatedAt: crashT0})
			return []controlplane.Event{{Time: crashT0, Action: "license.activate", Target: l.ID, TenantID: l.TenantID}}, nil
		})
		if err != nil {
			fmt.Println("update:", err)
			return
		}
		fmt.Println("bound", l.ID)
	}
}

// TestKillNineLosesNoAcknowledgedChange kills a process that writes
// through the store, in the middle of its work: everything it was told
// was stored is there, and nothing is half-written.
func TestKillNineLosesNoAcknowledgedChange(t *testing.T) {
	u := freshDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+u)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	issued, bound := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		verb, id, _ := strings.Cut(sc.Text(), " ")
		switch verb {
		case "issued":
			issued[id] = true
		case "bound":
			bound[id] = true
		default:
			t.Fatalf("child: %s", sc.Text())
		}
		if !killed && len(bound) >= 300 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", err)
	}
	t.Logf("child acknowledged %d issues and %d bindings before SIGKILL", len(issued), len(bound))

	ctx := context.Background()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	for id := range issued {
		l, err := s.GetLicense(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged licence %s: %v", id, err)
		}
		if bound[id] && len(l.Machines) != 2 {
			t.Fatalf("acknowledged binding of %s lost: %d machines", id, len(l.Machines))
		}
	}
	// Nothing half-written: every stored licence is whole, with its issue
	// event, and a binding only together with its event.
	all, cursor := 0, ""
	for {
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 1000, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range page {
			all++
			var n int
			fmt.Sscanf(l.ID, "lic_%d", &n)
			want := crashLicense(n)
			if l.Primary != want.Primary || l.Metadata["n"] != want.Metadata["n"] || len(l.Machines) < 1 || l.Machines[0].Fingerprint != "fp_issue" {
				t.Fatalf("half-written licence %+v", l)
			}
			evs, _, err := s.ListEvents(ctx, controlplane.EventFilter{Target: l.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(l.Machines) {
				t.Fatalf("licence %s has %d machines and %d events", l.ID, len(l.Machines), len(evs))
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if all < len(issued) || all > len(issued)+1 {
		t.Fatalf("%d licences stored, %d acknowledged", all, len(issued))
	}
}
