package heartbeat_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/heartbeat"
)

func TestLoopOutageBackoffBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		const outage = 2 * time.Hour
		cp := &fakeCP{answer: func(_ int, c call) reply {
			if c.At.Sub(begin) < outage {
				return reply{status: 503, body: "<html>down</html>"}
			}
			return ok(3600)
		}}
		l, rec := newLoop(cp)
		l.Rand = rand.New(rand.NewPCG(1, 2)).Float64
		stop := start(t, l)
		time.Sleep(outage + 2*time.Hour)
		stop()

		calls := cp.Calls()
		var failed int
		for i, g := range gaps(calls) {
			if calls[i].At.Sub(begin) >= outage {
				break
			}
			failed++
			require.LessOrEqual(t, g, heartbeat.DefaultBackoffMax, "wait after failure %d", i)
			require.GreaterOrEqual(t, g, heartbeat.DefaultBackoffBase/2, "wait after failure %d", i)
		}
		// Every wait ≤ 5 min, so at least 24 attempts in 2 h; the mean
		// capped wait is ~2.5 min, so far fewer than the 14 400 a 0.5 s
		// floor would allow.
		assert.GreaterOrEqual(t, failed, int(outage/heartbeat.DefaultBackoffMax))
		assert.LessOrEqual(t, failed, 80)
		results, _ := rec.get()
		for i, r := range results[:failed] {
			require.ErrorIs(t, r.Err, heartbeat.ErrUnavailable)
			require.Equal(t, i+1, r.Failures)
		}
		// Recovery: back to the server's pace, counter reset.
		ok := results[failed]
		require.NoError(t, ok.Err)
		assert.Equal(t, 0, ok.Failures)
		assert.LessOrEqual(t, calls[failed].At.Sub(begin), outage+heartbeat.DefaultBackoffMax)
		for _, g := range gaps(calls[failed:]) {
			assert.Equal(t, time.Hour, g)
		}
		t.Logf("outage of %v: %d attempts", outage, failed)
	})
}

func TestLoopBackoffSequence(t *testing.T) {
	cases := []struct {
		name string
		rand float64
		want []float64 // seconds
	}{
		{"ceiling", 1, []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}},
		{"floor", 0, []float64{0.5, 0.5, 0.5, 0.5}},
		{"broken rand", 7, []float64{1, 2, 4, 8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cp := &fakeCP{answer: func(int, call) reply { return reply{status: 500} }}
				l, rec := newLoop(cp)
				l.Rand = func() float64 { return tc.rand }
				stop := start(t, l)
				var total time.Duration
				for _, w := range tc.want {
					total += time.Duration(w * float64(time.Second))
				}
				time.Sleep(total + time.Millisecond)
				stop()
				results, _ := rec.get()
				require.GreaterOrEqual(t, len(results), len(tc.want))
				for i, w := range tc.want {
					assert.Equal(t, time.Duration(w*float64(time.Second)), results[i].Next, i)
				}
				for i, g := range gaps(cp.Calls())[:len(tc.want)] {
					assert.Equal(t, results[i].Next, g, "waited what it reported")
				}
			})
		})
	}
}

func TestLoopRetryAfterObeyed(t *testing.T) {
	cases := []struct {
		name   string
		answer func() reply
		max    time.Duration
		want   time.Duration
	}{
		{"seconds on 503", func() reply { return fail(503, "INTERNAL", "Retry-After", "120") }, 0, 120 * time.Second},
		{"seconds on 429", func() reply { return fail(429, "RATE", "Retry-After", "900") }, 0, 900 * time.Second},
		{"HTTP-date", func() reply {
			now := time.Now().UTC()
			return fail(503, "INTERNAL", "Retry-After", now.Add(10*time.Minute).Format(http.TimeFormat),
				"Date", now.Format(http.TimeFormat))
		}, 0, 10 * time.Minute},
		{"huge, clamped to MaxInterval", func() reply { return fail(503, "INTERNAL", "Retry-After", "99999999") }, 2 * time.Hour, 2 * time.Hour},
		{"on a definitive answer", func() reply { return fail(403, "REVOKED", "Retry-After", "7200") }, 0, 2 * time.Hour},
		{"garbage ignored", func() reply { return fail(503, "INTERNAL", "Retry-After", "later") }, 0, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cp := &fakeCP{answer: func(n int, _ call) reply {
					if n == 0 {
						return tc.answer()
					}
					return ok(3600)
				}}
				l, rec := newLoop(cp)
				l.MaxInterval = tc.max
				l.Rand = func() float64 { return 1 }
				stop := start(t, l)
				time.Sleep(tc.want - time.Nanosecond)
				synctest.Wait()
				assert.Len(t, cp.Calls(), 1, "no attempt before Retry-After")
				l.Kick() // a kick does not cut a Retry-After short
				synctest.Wait()
				assert.Len(t, cp.Calls(), 1, "kick ignored Retry-After")
				time.Sleep(time.Nanosecond)
				stop()
				calls := cp.Calls()
				require.Len(t, calls, 2)
				assert.Equal(t, tc.want, calls[1].At.Sub(calls[0].At))
				results, _ := rec.get()
				assert.Equal(t, tc.want, results[0].Next)
			})
		})
	}
}

func TestLoopDefinitiveNotRetriedFast(t *testing.T) {
	cases := []struct {
		reply reply
		want  error
	}{
		{fail(501, "INTERNAL"), heartbeat.ErrRejected},
		{fail(400, "VALIDATION"), heartbeat.ErrRejected},
		{fail(401, "UNAUTHENTICATED"), heartbeat.ErrRejected},
		{fail(403, "FORBIDDEN"), heartbeat.ErrRejected},
		{fail(404, "NOT_FOUND"), heartbeat.ErrUnknownLicense},
		{fail(409, "CONFLICT"), heartbeat.ErrBoundElsewhere},
		{fail(403, "REVOKED"), heartbeat.ErrRevoked},
		{fail(403, "SUSPENDED"), heartbeat.ErrSuspended},
	}
	for _, tc := range cases {
		t.Run(tc.want.Error()+"/"+http.StatusText(tc.reply.status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cp := &fakeCP{answer: func(int, call) reply { return tc.reply }}
				l, rec := newLoop(cp)
				l.Interval = 2 * time.Hour
				stop := start(t, l)
				time.Sleep(6*time.Hour - time.Second)
				stop()
				calls := cp.Calls()
				require.Len(t, calls, 3, "one attempt per Interval, no fast retry")
				for _, g := range gaps(calls) {
					assert.Equal(t, 2*time.Hour, g)
				}
				results, _ := rec.get()
				for i, r := range results {
					assert.ErrorIs(t, r.Err, tc.want)
					assert.True(t, heartbeat.IsDefinitive(r.Err))
					assert.Equal(t, i+1, r.Failures)
					assert.Nil(t, r.Response)
				}
			})
		})
	}
}

func TestLoopRequestTimeoutBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cp := &fakeCP{answer: func(int, call) reply { return reply{hang: true} }}
		l, rec := newLoop(cp)
		l.Rand = func() float64 { return 1 }
		stop := start(t, l)
		time.Sleep(time.Hour)
		stop()
		results, at := rec.get()
		require.NotEmpty(t, results)
		for i, r := range results {
			assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
			assert.ErrorIs(t, r.Err, heartbeat.ErrUnavailable)
			if i > 0 {
				assert.Equal(t, results[i-1].Next+heartbeat.DefaultTimeout, at[i].Sub(at[i-1]))
			}
		}
	})
}

// Every kind of server fault, at random, for a simulated week: the loop
// never panics, never waits longer than MaxInterval, never beats sooner
// than MinInterval after a success, and always obeys Retry-After.
func TestLoopChaos(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 11))
		faults := []func() reply{
			func() reply { return ok(rng.IntN(7200) - 100) },
			func() reply { return reply{err: errors.New("dial tcp: connection refused")} },
			func() reply { return reply{hang: true} },
			func() reply { return reply{status: 500} },
			func() reply { return fail(502, "BAD_GATEWAY", "Retry-After", "garbage") },
			func() reply { return fail(503, "INTERNAL", "Retry-After", "600") },
			func() reply { return fail(503, "INTERNAL", "Retry-After", "999999999999") },
			func() reply {
				return fail(429, "RATE", "Retry-After", time.Now().Add(3*time.Minute).UTC().Format(http.TimeFormat))
			},
			func() reply { return reply{status: 200, body: `{"status":`} },
			func() reply { return reply{status: 200, body: bigJSON(200 << 10)} },
			func() reply { return reply{status: 302, header: map[string]string{"Location": "/x"}} },
			func() reply { return fail(403, "REVOKED") },
			func() reply { return fail(404, "NOT_FOUND") },
			func() reply { return reply{status: 501} },
			func() reply { return reply{status: 0} },
		}
		var mu sync.Mutex
		cp := &fakeCP{answer: func(int, call) reply {
			mu.Lock()
			defer mu.Unlock()
			return faults[rng.IntN(len(faults))]()
		}}
		l, rec := newLoop(cp)
		l.MaxInterval = 6 * time.Hour
		l.Client.Timeout = 10 * time.Second
		l.Rand = rand.New(rand.NewPCG(3, 5)).Float64 // reproducible jitter
		stop := start(t, l)
		time.Sleep(7 * day)
		stop()

		results, at := rec.get()
		require.Greater(t, len(results), 100)
		seen := map[string]bool{}
		for i, r := range results {
			require.LessOrEqual(t, r.Next, 6*time.Hour)
			var he *heartbeat.Error
			switch {
			case r.Err == nil:
				seen["ok"] = true
				require.GreaterOrEqual(t, r.Next, heartbeat.DefaultMinInterval)
			case errors.As(r.Err, &he) && he.RetryAfter > 0:
				seen["retry-after"] = true
				require.GreaterOrEqual(t, r.Next, min(he.RetryAfter, 6*time.Hour))
			case heartbeat.IsDefinitive(r.Err):
				seen["definitive"] = true
				require.Equal(t, heartbeat.DefaultInterval, r.Next)
			default:
				seen["transient"] = true
				require.True(t, heartbeat.IsTransient(r.Err), r.Err)
				require.LessOrEqual(t, r.Next, heartbeat.DefaultBackoffMax)
			}
			if i+1 < len(at) {
				require.GreaterOrEqual(t, at[i+1].Sub(at[i]), r.Next, "waited at least Next")
			}
		}
		assert.Len(t, seen, 4, "%v", seen)
		t.Logf("chaos week: %d attempts", len(results))
	})
}
