package grace_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

// The helper process: the test binary re-executed with
// -test.run=^TestHelperProcess$ and GRACE_HELPER set.
const (
	envHelper = "GRACE_HELPER"     // "loop": write until killed; "count": N increments, then exit
	envDir    = "GRACE_HELPER_DIR" // the state directory
	envN      = "GRACE_HELPER_N"   // increments for "count"
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("helper process for the multi-process tests")
	}
	s, err := grace.Open(testOptions(os.Getenv(envDir)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	switch mode {
	case "loop":
		// Write new states as fast as possible, each one bigger or smaller
		// and with a new lease, until killed (or 30 s, should the parent vanish).
		stop := time.Now().Add(30 * time.Second)
		for time.Now().Before(stop) {
			err := s.Update(func(st *grace.State) error {
				n := counter(*st) + 1
				st.ActivationKey = fmt.Sprintf("n=%d", n)
				st.LastState = strings.Repeat("x", n%200)
				st.Lease = grace.FakeLease(grace.Lease{ID: fmt.Sprintf("lea_%d", n), LicenseID: "lic_1", Status: grace.StatusActive, IssuedAt: t0.Add(time.Duration(n) * time.Second), ExpiresAt: exp})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	case "count":
		n, _ := strconv.Atoi(os.Getenv(envN))
		for i := 0; i < n; i++ {
			if err := s.Update(increment); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// helper is a running helper process.
type helper struct {
	cmd *exec.Cmd
	out *os.File // read end of its stdout, closed by wait
}

// startHelper starts a helper process and waits until its store is open.
// Its stdout is a pipe the test reads "ready" from; the little it writes
// afterwards fits in the pipe's buffer, so nothing needs to drain it.
func startHelper(t *testing.T, dir, mode string, n int) *helper {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"="+mode, envDir+"="+dir, envN+"="+strconv.Itoa(n))
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, out: r}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || line != "ready\n" {
		h.kill()
		t.Fatalf("helper did not start: %q %v", line, err)
	}
	return h
}

// wait waits for the helper to exit.
func (h *helper) wait() error {
	defer h.out.Close()
	return h.cmd.Wait()
}

// kill kills the helper (SIGKILL on unix, TerminateProcess on Windows) and reaps it.
func (h *helper) kill() {
	_ = h.cmd.Process.Kill()
	_ = h.wait()
}

// A helper writing in a loop is killed (SIGKILL on unix) at random points,
// many times. After each kill the file reads as a valid state — the one
// before the interrupted write or the one after — never as corrupt, and
// never as an older state than seen before; Open sweeps the temp file a
// kill mid-write leaves behind.
func TestKillLoop(t *testing.T) {
	kills := 150
	switch {
	case testing.Short():
		kills = 20
	case raceEnabled: // a race-instrumented helper is slow to start
		kills = 60
	}
	if n, err := strconv.Atoi(os.Getenv("GRACE_KILLS")); err == nil && n > 0 {
		kills = n // for a longer run: GRACE_KILLS=2000 go test -run TestKillLoop ./grace/
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	var (
		last, midWrite, progressed int
		start                      = time.Now()
	)
	for i := 0; i < kills; i++ {
		h := startHelper(t, dir, "loop", 0)
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		h.kill()

		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				midWrite++
				break
			}
		}

		s := openStore(t, testOptions(dir)) // sweeps
		st, err := s.Load()
		if errors.Is(err, grace.ErrNoState) && last == 0 {
			continue // killed before the first write ever finished
		}
		require.NoError(t, err, "kill %d (seed %d): the file must read as a valid state", i, seed)
		n := counter(st)
		require.GreaterOrEqual(t, n, last, "kill %d (seed %d): went back from state %d to %d", i, seed, last, n)
		require.NotNil(t, st.Lease)
		assert.Equal(t, fmt.Sprintf("lea_%d", n), st.Lease.ID, "lease and counter come from one write")
		assert.Len(t, st.LastState, n%200)
		if n > last {
			progressed++
		}
		last = n

		entries, err = os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			assert.False(t, strings.Contains(e.Name(), ".tmp-"), "temp file survived Open: %s", e.Name())
		}
	}
	t.Logf("%d kills in %s (seed %d): %d mid-write (temp file left behind), %d after progress; %d states written in all",
		kills, time.Since(start).Round(time.Millisecond), seed, midWrite, progressed, last)
}

// Two processes increment a counter in the file at once; the lock file
// makes every read-modify-write whole, so no increment is lost.
func TestTwoProcessesWriting(t *testing.T) {
	each := 100
	if raceEnabled || testing.Short() {
		each = 50
	}
	dir := t.TempDir()
	a := startHelper(t, dir, "count", each)
	b := startHelper(t, dir, "count", each)
	require.NoError(t, a.wait())
	require.NoError(t, b.wait())
	st, err := openStore(t, testOptions(dir)).Load()
	require.NoError(t, err)
	assert.Equal(t, 2*each, counter(st))
}
