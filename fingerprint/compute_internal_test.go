package fingerprint

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// counting returns sources that count their calls.
func counting(calls *atomic.Int64, id string) Sources {
	count := func() { calls.Add(1) }
	return Sources{
		MachineID:   func(context.Context) (string, error) { count(); return id, nil },
		CPUModel:    func(context.Context) (string, error) { count(); return "Test CPU", nil },
		CPUCount:    func(context.Context) (int, error) { count(); return 8, nil },
		MemoryBytes: func(context.Context) (uint64, error) { count(); return 16 << 30, nil },
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			count()
			return []net.HardwareAddr{{0x3c, 0xec, 0xef, 0, 0, 1}}, nil
		},
		RootDisk: func(context.Context) (string, error) { count(); return "wwid:x", nil },
	}
}

func TestCollectorCaches(t *testing.T) {
	var calls atomic.Int64
	c := &collector{src: counting(&calls, "m1")}
	ctx := context.Background()

	a, err := c.compute(ctx, "app-a", &config{})
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 6 {
		t.Fatalf("first compute read %d sources, want 6", n)
	}
	again, _ := c.compute(ctx, "app-a", &config{})
	if calls.Load() != 6 || again != a {
		t.Errorf("warm compute re-read sources (%d calls) or changed result", calls.Load())
	}
	if _, err := c.compute(ctx, "app-b", &config{}); err != nil || calls.Load() != 6 {
		t.Errorf("second app id re-read sources: %d calls, %v", calls.Load(), err)
	}
	exact, _ := c.compute(ctx, "app-a", &config{exact: true})
	if !exact.exact || exact.s != a.s || a.exact {
		t.Error("policy must apply per call, not be cached")
	}
	if _, err := c.compute(ctx, "app-a", &config{refresh: true}); err != nil || calls.Load() != 12 {
		t.Errorf("refresh: %d calls, %v; want 12", calls.Load(), err)
	}
	// An override does not need the machine id.
	if _, err := c.compute(ctx, "app-a", &config{refresh: true, override: "pod-1"}); err != nil || calls.Load() != 17 {
		t.Errorf("override: %d calls, %v; want 17", calls.Load(), err)
	}
}

func TestCollectorMemoBounded(t *testing.T) {
	var calls atomic.Int64
	c := &collector{src: counting(&calls, "m1")}
	for i := range 3 * maxMemo {
		if _, err := c.compute(context.Background(), "app-"+strconv.Itoa(i), &config{}); err != nil {
			t.Fatal(err)
		}
		if len(c.memo) > maxMemo {
			t.Fatalf("memo holds %d entries, bound is %d", len(c.memo), maxMemo)
		}
	}
}

func TestCollectorCancelNotCached(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	src := counting(&calls, "m1")
	src.MACs = func(context.Context) ([]net.HardwareAddr, error) {
		cancel() // the context ends while the machine is being read
		return nil, context.Canceled
	}
	c := &collector{src: src}
	if _, err := c.compute(ctx, "app", &config{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("compute = %v, want context.Canceled", err)
	}
	if c.facts != nil || len(c.memo) != 0 {
		t.Error("a read cut short by ctx was cached")
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	src2 := counting(&calls, "")
	src2.MachineID = func(context.Context) (string, error) { cancel2(); return "", context.Canceled }
	c2 := &collector{src: src2}
	if _, err := c2.compute(ctx2, "app", &config{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("compute = %v, want context.Canceled", err)
	}
	if c2.facts.machineRead {
		t.Error("a machine id read cut short by ctx was cached")
	}
}

func TestCollectorMachineIDErrorCachedUntilRefresh(t *testing.T) {
	var reads atomic.Int64
	id := ""
	var mu sync.Mutex
	src := Sources{MachineID: func(context.Context) (string, error) {
		reads.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return id, nil
	}}
	c := &collector{src: src}
	for range 3 {
		if _, err := c.compute(context.Background(), "app", &config{}); !errors.Is(err, ErrNoMachineID) {
			t.Fatalf("compute = %v, want ErrNoMachineID", err)
		}
	}
	if reads.Load() != 1 {
		t.Errorf("machine id read %d times, want 1", reads.Load())
	}
	mu.Lock()
	id = "now-present"
	mu.Unlock()
	if _, err := c.compute(context.Background(), "app", &config{refresh: true}); err != nil {
		t.Errorf("after refresh: %v", err)
	}
}

func TestCollectorConcurrent(t *testing.T) {
	var calls atomic.Int64
	c := &collector{src: counting(&calls, "m1")}
	want, err := c.compute(context.Background(), "app", &config{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				cfg := &config{refresh: (i+j)%17 == 0}
				got, err := c.compute(context.Background(), "app", cfg)
				if err != nil || got.s != want.s {
					t.Errorf("concurrent compute = %q, %v", got.s, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestVersionOf(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"fp1.abc", "fp1.", true},
		{"fp12.", "fp12.", true},
		{"fp.", "", false},
		{"fpx.", "", false},
		{"fp1234567.", "", false},
		{"fp", "", false},
		{"xx1.", "", false},
	}
	for _, tt := range tests {
		if got, ok := versionOf(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("versionOf(%q) = %q, %v", tt.in, got, ok)
		}
	}
}

func TestFormatConstants(t *testing.T) {
	if blobLen != 48 || stringLen != 68 || reservedBits != 0xe0 {
		t.Errorf("blobLen %d, stringLen %d, reservedBits %#x", blobLen, stringLen, reservedBits)
	}
}

func TestMemoryClass(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	tests := []struct{ in, want uint64 }{
		{1, 1},
		{100 * mib, 112 * mib},
		{1434 * mib, 1536 * mib},       // 1.5 GiB VM
		{3900 * mib, 4 * gib},          // 4 GiB
		{4 * gib, 4 * gib},             // exact power of two
		{15*gib + 600*mib, 16 * gib},   // 16 GiB laptop
		{23*gib + 400*mib, 24 * gib},   // 24 GiB
		{251*gib + 512*mib, 256 * gib}, // 256 GiB server
		{251*gib + 100*mib, 256 * gib}, // ... after a kernel update
		{375 * gib, 384 * gib},         // 384 GiB
		{1<<62 + 1, 1<<62 + 1},         // absurd: unchanged, no overflow
		{1<<64 - 1, 1<<64 - 1},
	}
	for _, tt := range tests {
		if got := memoryClass(tt.in); got != tt.want {
			t.Errorf("memoryClass(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
