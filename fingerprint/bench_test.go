package fingerprint_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/denisbrodbeck/machineid"
	"github.com/shirou/gopsutil/v3/host"

	"github.com/licensekit/licensekit/fingerprint"
)

// The benchmarks read the real machine. Compare them with the primitives in
// the same run: BenchmarkProtectedID (what machineid offers: one file read
// and one HMAC) for the cold path, BenchmarkHMAC for the warm path.

const benchApp = "acme-appliance"

func needMachineID(b *testing.B) {
	b.Helper()
	if _, err := fingerprint.Compute(context.Background(), benchApp); errors.Is(err, fingerprint.ErrNoMachineID) {
		b.Skip(err)
	}
}

// BenchmarkComputeWarm is every call after the first: the process cache.
func BenchmarkComputeWarm(b *testing.B) {
	needMachineID(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fingerprint.Compute(ctx, benchApp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeRefresh reads the whole machine on every call
// (WithRefresh): a cold call, except that the process and the kernel's
// caches are already warm.
func BenchmarkComputeRefresh(b *testing.B) {
	needMachineID(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fingerprint.Compute(ctx, benchApp, fingerprint.WithRefresh()); err != nil {
			b.Fatal(err)
		}
	}
}

// firstCallEnv tells TestFirstCallChild where to write its measurement.
const firstCallEnv = "FINGERPRINT_FIRST_CALL_OUT"

// TestFirstCallChild times the first Compute of a fresh process. It does
// nothing unless BenchmarkComputeFirstCall runs it.
func TestFirstCallChild(t *testing.T) {
	out := os.Getenv(firstCallEnv)
	if out == "" {
		t.Skip("run by BenchmarkComputeFirstCall")
	}
	start := time.Now()
	_, err := fingerprint.Compute(context.Background(), benchApp)
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte(strconv.FormatInt(d.Nanoseconds(), 10)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkComputeFirstCall re-executes the test binary once per iteration
// and reports the first Compute of each fresh process, measured inside it,
// as first-call-ns (median) and first-call-p90-ns. Its ns/op is the cost of
// starting the process and means nothing.
func BenchmarkComputeFirstCall(b *testing.B) {
	needMachineID(b)
	exe, err := os.Executable()
	if err != nil {
		b.Skip(err)
	}
	dir := b.TempDir()
	var samples []float64
	for i := 0; b.Loop(); i++ {
		out := filepath.Join(dir, strconv.Itoa(i))
		cmd := exec.Command(exe, "-test.run=^TestFirstCallChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), firstCallEnv+"="+out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("child: %v\n%s", err, msg)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		ns, err := strconv.ParseFloat(strings.TrimSpace(string(raw)), 64)
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, ns)
	}
	slices.Sort(samples)
	b.ReportMetric(samples[len(samples)/2], "first-call-ns")
	b.ReportMetric(samples[len(samples)*9/10], "first-call-p90-ns")
}

// BenchmarkComputeFake derives a fingerprint from in-memory sources: the
// cost of the keyed hashing alone.
func BenchmarkComputeFake(b *testing.B) {
	ctx := context.Background()
	opt := fingerprint.WithSources(server().sources())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fingerprint.Compute(ctx, benchApp, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSources reads each system source on its own.
func BenchmarkSources(b *testing.B) {
	ctx := context.Background()
	s := fingerprint.SystemSources()
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			if f == nil {
				b.Skip("not available on this platform")
			}
			for b.Loop() {
				_ = f()
			}
		})
	}
	call := func(ok bool, f func() error) func() error {
		if !ok {
			return nil
		}
		return f
	}
	run("MachineID", call(s.MachineID != nil, func() error { _, err := s.MachineID(ctx); return err }))
	run("CPUModel", call(s.CPUModel != nil, func() error { _, err := s.CPUModel(ctx); return err }))
	run("CPUCount", call(s.CPUCount != nil, func() error { _, err := s.CPUCount(ctx); return err }))
	run("MemoryBytes", call(s.MemoryBytes != nil, func() error { _, err := s.MemoryBytes(ctx); return err }))
	run("MACs", call(s.MACs != nil, func() error { _, err := s.MACs(ctx); return err }))
	run("RootDisk", call(s.RootDisk != nil, func() error { _, err := s.RootDisk(ctx); return err }))
}

// BenchmarkProtectedID is the primitive the package builds on: machineid's
// keyed machine id, uncached.
func BenchmarkProtectedID(b *testing.B) {
	if _, err := machineid.ProtectedID(benchApp); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		_, _ = machineid.ProtectedID(benchApp)
	}
}

// BenchmarkHMAC is one HMAC-SHA256 of the app id: the warm path must cost
// less than hashing even once.
func BenchmarkHMAC(b *testing.B) {
	key := []byte("3d1219c7c4c5404aaa1f6d2a48adfda4")
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(benchApp))
		_ = m.Sum(nil)
	}
}

// BenchmarkGopsutilHostInfo is the slow path Compute avoids. It takes about
// a second, so it runs only with FINGERPRINT_BENCH_GOPSUTIL=1.
func BenchmarkGopsutilHostInfo(b *testing.B) {
	if os.Getenv("FINGERPRINT_BENCH_GOPSUTIL") == "" {
		b.Skip("set FINGERPRINT_BENCH_GOPSUTIL=1")
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := host.InfoWithContext(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatches compares with a recorded fingerprint one NIC away.
func BenchmarkMatches(b *testing.B) {
	fp := compute(b, server(), benchApp)
	m := server()
	m.macs = []string{"00:1b:21:aa:bb:cc"}
	recorded := compute(b, m, benchApp).String()
	b.ReportAllocs()
	for b.Loop() {
		if !fp.Matches(recorded) {
			b.Fatal("no match")
		}
	}
}
