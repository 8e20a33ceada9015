package controlplane_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

// gateStore holds one call of a method until released, to put the server
// in the middle of something.
type gateStore struct {
	controlplane.Store
	armBeats atomic.Bool // the next RecordBeats waits
	armGet   atomic.Bool // the next GetLicense waits
	entered  chan struct{}
	release  chan struct{}
}

func newGateStore() *gateStore {
	return &gateStore{Store: memstore.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (g *gateStore) RecordBeats(ctx context.Context, beats []controlplane.Beat) error {
	if g.armBeats.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Store.RecordBeats(ctx, beats)
}

func (g *gateStore) GetLicense(ctx context.Context, id string) (controlplane.License, error) {
	if g.armGet.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Store.GetLicense(ctx, id)
}

func gatedHarness(t *testing.T) (*harness, *gateStore) {
	g := newGateStore()
	h := &harness{t: t, clock: &clock{t: t0}}
	srv, err := controlplane.New(context.Background(), controlplane.Config{
		Store: g, Issuer: issuer, AdminKey: adminSecret, Clock: h.clock.Now, SecretKey: testSecretKey(),
		DeviceRateLimit: controlplane.RateLimit{PerSecond: -1}, AdminRateLimit: controlplane.RateLimit{PerSecond: -1},
		FlushInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	t.Cleanup(func() { srv.Close() })
	return h, g
}

// A sweep that runs while the background writer is in the middle of
// writing a beat waits for it: a machine that has just beaten is not found
// dead, and no machine.dead event is written for it.
func TestAttackSweepDuringFlush(t *testing.T) {
	h, g := gatedHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	// Offline past its lease, then back: its beat waits to be written.
	h.clock.Add(controlplane.DefaultGrace + time.Hour)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	g.armBeats.Store(true)
	flushed := make(chan error, 1)
	go func() { flushed <- h.srv.FlushBeats() }()
	<-g.entered // the writer holds the beat, not yet stored

	swept := make(chan map[string]any, 1)
	go func() { swept <- h.must(200, "POST", "/licenses/health/sweep", adminSecret, nil) }()
	var out map[string]any
	select {
	case out = <-swept: // answered without waiting for the write in flight
	case <-time.After(50 * time.Millisecond):
	}
	close(g.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if out == nil {
		out = <-swept
	}
	if dead := out["dead"].([]any); len(dead) != 0 {
		t.Fatalf("the sweep found dead a machine that had just beaten: %v", dead)
	}
	ev := h.must(200, "GET", "/audit?action=machine.dead", adminSecret, nil)["events"].([]any)
	if len(ev) != 0 {
		t.Fatalf("machine.dead audited for a live machine: %v", ev)
	}
}

// A heartbeat answered while the Server closes keeps its bookkeeping: it is
// written, not left in a buffer nobody will flush.
func TestAttackBeatDuringClose(t *testing.T) {
	h, g := gatedHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(time.Hour)
	g.armGet.Store(true)
	answered := make(chan error, 1)
	go func() {
		_, err := h.beat(l, l.Primary, "fp-A")
		answered <- err
	}()
	<-g.entered // the heartbeat is past the door, reading the licence
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if err := <-answered; err != nil {
		t.Fatalf("the heartbeat in flight: %v", err)
	}
	got, err := g.Store.GetLicense(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at := got.Machines[0].LastHeartbeatAt; !at.Equal(h.clock.Now()) {
		t.Fatalf("the beat answered during Close was lost: last beat %v, want %v", at, h.clock.Now())
	}
}

// Close while requests of every kind are in flight: no race, no panic, no
// answer other than success, a refusal or 503, no goroutine left (goleak
// checks the package).
func TestAttackCloseUnderLoad(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 8})
	var wg sync.WaitGroup
	var bad atomic.Value
	start := make(chan struct{})
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fp := "fp-" + string(rune('A'+i))
			for range 50 {
				var code int
				switch i % 4 {
				case 0:
					code = h.do("POST", "/licenses/"+l.ID+"/activate", "", map[string]any{"token": l.Primary, "fingerprint": fp}).Code
				case 1:
					code = h.do("POST", "/licenses/"+l.ID+"/heartbeat", "", map[string]any{"token": l.Primary, "fingerprint": fp}).Code
				case 2:
					code = h.do("GET", "/machines", adminSecret, nil).Code
				default:
					code = h.do("POST", "/licenses/health/sweep", adminSecret, nil).Code
				}
				if code >= 500 && code != 503 {
					bad.Store(code)
				}
			}
		}()
	}
	close(start)
	time.Sleep(5 * time.Millisecond)
	if err := h.srv.Close(); err != nil && !errors.Is(err, controlplane.ErrUnavailable) {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatalf("an answer %v during Close", v)
	}
	rec := h.do("GET", "/licenses", adminSecret, nil)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "UNAVAILABLE") {
		t.Fatalf("after Close: %d %s", rec.Code, rec.Body.String())
	}
}
