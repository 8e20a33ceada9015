package heartbeat_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/heartbeat"
)

const day = 24 * time.Hour

// recorder collects what Handle saw.
type recorder struct {
	mu      sync.Mutex
	results []heartbeat.Result
	at      []time.Time
}

func (r *recorder) handle(res heartbeat.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
	r.at = append(r.at, time.Now())
}

func (r *recorder) get() ([]heartbeat.Result, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]heartbeat.Result(nil), r.results...), append([]time.Time(nil), r.at...)
}

// newLoop returns a loop against cp with the defaults, recording results.
func newLoop(cp *fakeCP) (*heartbeat.Loop, *recorder) {
	rec := &recorder{}
	return &heartbeat.Loop{
		Client:  newClient(cp),
		Request: func() heartbeat.Request { return req1 },
		Handle:  rec.handle,
	}, rec
}

// start runs l in the bubble and returns a stop func that cancels it and
// checks that Run returned context.Canceled without time passing.
func start(t *testing.T, l *heartbeat.Loop) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	return func() {
		t.Helper()
		synctest.Wait()
		before := time.Now()
		cancel()
		synctest.Wait()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled)
		default:
			t.Fatal("Run did not return after cancel")
		}
		assert.Equal(t, before, time.Now(), "Run returned without waiting")
	}
}

// gaps returns the time between consecutive calls.
func gaps(calls []call) []time.Duration {
	var g []time.Duration
	for i := 1; i < len(calls); i++ {
		g = append(g, calls[i].At.Sub(calls[i-1].At))
	}
	return g
}

func TestLoopThirtyDaysHealthy(t *testing.T) {
	wall := time.Now()
	synctest.Test(t, func(t *testing.T) {
		cp := &fakeCP{}
		l, rec := newLoop(cp)
		var mu sync.Mutex
		bound := false
		l.Activate = func() bool { mu.Lock(); defer mu.Unlock(); return !bound }
		l.Handle = func(r heartbeat.Result) {
			rec.handle(r)
			if r.Err == nil && r.Op == heartbeat.OpActivate {
				mu.Lock()
				bound = true
				mu.Unlock()
			}
		}
		begin := time.Now()
		stop := start(t, l)
		time.Sleep(30*day - time.Second)
		stop()

		calls := cp.Calls()
		require.Len(t, calls, 30*24, "one attempt at once, then one an hour")
		assert.Equal(t, begin, calls[0].At, "first attempt immediate")
		assert.Equal(t, "activate", calls[0].Op)
		for i, c := range calls[1:] {
			require.Equal(t, "heartbeat", c.Op, i)
		}
		for i, g := range gaps(calls) {
			require.Equal(t, time.Hour, g, i)
		}
		results, _ := rec.get()
		require.Len(t, results, 30*24)
		for _, r := range results {
			require.NoError(t, r.Err)
			require.Equal(t, 0, r.Failures)
			require.Equal(t, time.Hour, r.Next)
		}
	})
	t.Logf("30 simulated days, 720 beats: %v wall time", time.Since(wall))
}

func TestLoopServerIntervalClamped(t *testing.T) {
	cases := []struct {
		name string
		next int
		want time.Duration
	}{
		{"too fast", 1, heartbeat.DefaultMinInterval},
		{"absent", 0, heartbeat.DefaultInterval},
		{"negative", -10, heartbeat.DefaultInterval},
		{"too slow", 1e9, heartbeat.DefaultMaxInterval},
		{"in range", 600, 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cp := &fakeCP{answer: func(int, call) reply { return ok(tc.next) }}
				l, rec := newLoop(cp)
				stop := start(t, l)
				time.Sleep(3*tc.want + time.Second)
				stop()
				calls := cp.Calls()
				require.Len(t, calls, 4)
				for _, g := range gaps(calls) {
					assert.Equal(t, tc.want, g)
				}
				results, _ := rec.get()
				assert.Equal(t, tc.want, results[0].Next)
			})
		})
	}
}

func TestLoopStopsPromptly(t *testing.T) {
	t.Run("while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			l, _ := newLoop(&fakeCP{})
			stop := start(t, l)
			time.Sleep(time.Minute)
			stop()
		})
	})
	t.Run("during a hanging request", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cp := &fakeCP{answer: func(int, call) reply { return reply{hang: true} }}
			l, rec := newLoop(cp)
			l.Client.Timeout = time.Hour
			stop := start(t, l)
			time.Sleep(time.Minute)
			stop()
			results, _ := rec.get()
			assert.Empty(t, results, "an abandoned request is not reported")
		})
	})
	t.Run("already cancelled", func(t *testing.T) {
		cp := &fakeCP{}
		l, _ := newLoop(cp)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, l.Run(ctx), context.Canceled)
		assert.Empty(t, cp.Calls())
	})
}

func TestLoopKick(t *testing.T) {
	t.Run("after success, not before MinInterval", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cp := &fakeCP{}
			l, _ := newLoop(cp)
			begin := time.Now()
			stop := start(t, l)
			time.Sleep(5 * time.Second)
			l.Kick()
			l.Kick() // coalesces
			time.Sleep(time.Minute)
			stop()
			calls := cp.Calls()
			require.Len(t, calls, 2)
			assert.Equal(t, heartbeat.DefaultMinInterval, calls[1].At.Sub(begin))
		})
	})
	t.Run("after a definitive answer, after BackoffBase", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cp := &fakeCP{answer: func(n int, _ call) reply {
				if n == 0 {
					return fail(409, "CONFLICT")
				}
				return ok(3600)
			}}
			l, _ := newLoop(cp)
			begin := time.Now()
			stop := start(t, l)
			synctest.Wait()
			l.Kick() // e.g. the licence was rebound to this machine
			time.Sleep(time.Minute)
			stop()
			calls := cp.Calls()
			require.Len(t, calls, 2)
			assert.Equal(t, heartbeat.DefaultBackoffBase, calls[1].At.Sub(begin))
		})
	})
	t.Run("before Run, answered by the first attempt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cp := &fakeCP{}
			l, _ := newLoop(cp)
			l.Kick()
			stop := start(t, l)
			time.Sleep(time.Minute)
			stop()
			assert.Len(t, cp.Calls(), 1)
		})
	})
}

// An activation retried across failures keeps its idempotency key, then the
// loop switches to heartbeats; Request is asked before every attempt.
func TestLoopActivationRetriedWithSameKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cp := &fakeCP{answer: func(n int, _ call) reply {
			if n < 3 {
				return reply{err: errors.New("connection reset")}
			}
			return ok(3600)
		}}
		l, _ := newLoop(cp)
		var mu sync.Mutex
		bound, asked := false, 0
		l.Activate = func() bool { mu.Lock(); defer mu.Unlock(); return !bound }
		l.Request = func() heartbeat.Request {
			mu.Lock()
			defer mu.Unlock()
			asked++
			r := req1
			r.Fingerprint = "fp-" + string(rune('a'+asked))
			return r
		}
		l.Handle = func(r heartbeat.Result) {
			if r.Err == nil && r.Op == heartbeat.OpActivate {
				mu.Lock()
				bound = true
				mu.Unlock()
			}
		}
		stop := start(t, l)
		time.Sleep(90 * time.Minute)
		stop()
		calls := cp.Calls()
		require.Len(t, calls, 5)
		for i, c := range calls {
			want := "heartbeat"
			if i < 4 {
				want = "activate"
				assert.Equal(t, "idem-1", c.Header.Get("Idempotency-Key"))
			}
			assert.Equal(t, want, c.Op, i)
			assert.Equal(t, "fp-"+string(rune('a'+i+1)), c.Body["fingerprint"])
		}
	})
}

func TestLoopConfigErrors(t *testing.T) {
	ctx := context.Background()
	var nilLoop *heartbeat.Loop
	assert.ErrorIs(t, nilLoop.Run(ctx), heartbeat.ErrConfig)
	assert.ErrorIs(t, (&heartbeat.Loop{}).Run(ctx), heartbeat.ErrConfig)
	l, _ := newLoop(&fakeCP{})
	//lint:ignore SA1012 testing the nil-context guard
	assert.ErrorIs(t, l.Run(nil), heartbeat.ErrConfig)

	// A Request the client refuses is reported and paced like a
	// definitive answer: no hot loop.
	synctest.Test(t, func(t *testing.T) {
		cp := &fakeCP{}
		l, rec := newLoop(cp)
		l.Request = func() heartbeat.Request { return heartbeat.Request{} }
		stop := start(t, l)
		time.Sleep(3*time.Hour - time.Second)
		stop()
		results, at := rec.get()
		require.Len(t, results, 3)
		assert.ErrorIs(t, results[0].Err, heartbeat.ErrConfig)
		assert.Equal(t, time.Hour, at[1].Sub(at[0]))
		assert.Empty(t, cp.Calls())
	})
}

func TestLoopLogsWithoutToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf syncBuffer
		cp := &fakeCP{answer: func(n int, _ call) reply {
			if n == 0 {
				return fail(503, "INTERNAL")
			}
			return fail(403, "REVOKED")
		}}
		l, _ := newLoop(cp)
		l.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		stop := start(t, l)
		time.Sleep(2 * time.Hour)
		stop()
		out := buf.String()
		assert.Contains(t, out, "op=heartbeat")
		assert.Contains(t, out, "control plane unavailable")
		assert.Contains(t, out, "definitive answer")
		assert.NotContains(t, out, req1.Token)
		assert.Contains(t, out, "eyJhbG")
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
