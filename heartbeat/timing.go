package heartbeat

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Defaults for the [Loop]'s zero fields.
const (
	DefaultInterval    = time.Hour
	DefaultMinInterval = 30 * time.Second
	DefaultMaxInterval = 24 * time.Hour
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 5 * time.Minute
)

// timing is the loop's schedule, normalised once when Run starts. Its
// methods are pure: they take the outcome of an attempt and return waits.
type timing struct {
	interval, min, max time.Duration
	base, bmax         time.Duration
	rand               func() float64
}

// newTiming applies defaults and keeps the bounds consistent:
// 0 < min ≤ interval ≤ max, 0 < base ≤ bmax ≤ max.
func newTiming(interval, lo, hi, base, bmax time.Duration, rnd func() float64) timing {
	t := timing{interval: interval, min: lo, max: hi, base: base, bmax: bmax, rand: rnd}
	if t.min <= 0 {
		t.min = DefaultMinInterval
	}
	if t.max <= 0 {
		t.max = DefaultMaxInterval
	}
	t.max = max(t.max, t.min)
	if t.interval <= 0 {
		t.interval = DefaultInterval
	}
	t.interval = t.clamp(t.interval)
	if t.base <= 0 {
		t.base = DefaultBackoffBase
	}
	if t.bmax <= 0 {
		t.bmax = DefaultBackoffMax
	}
	t.base = min(t.base, t.max)
	t.bmax = min(max(t.bmax, t.base), t.max)
	if t.rand == nil {
		t.rand = rand.Float64
	}
	return t
}

// clamp bounds a beat interval to [min, max].
func (t timing) clamp(d time.Duration) time.Duration {
	return min(max(d, t.min), t.max)
}

// backoff is the wait after the n-th consecutive failure (n ≥ 1): drawn
// uniformly from [base/2, min(bmax, base·2^(n-1))]. This is full jitter
// with a floor of half the base, so that even a degenerate random source
// cannot make the loop spin.
func (t timing) backoff(n int) time.Duration {
	ceil := t.base
	for i := 1; i < n && ceil < t.bmax; i++ {
		if ceil > t.bmax/2 { // doubling would pass the cap (or overflow)
			ceil = t.bmax
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, t.bmax)
	lo := t.base / 2
	r := t.rand()
	if !(r >= 0) { // also NaN
		r = 0
	}
	span := ceil - lo
	d := time.Duration(min(r, 1) * float64(span))
	if d < 0 || d > span { // float rounding near the int64 limit
		d = span
	}
	return lo + d
}

// next returns, after an attempt, how long to wait before the next one
// (wait) and the part of it that a Kick cannot shorten (hold). failures
// counts consecutive failed attempts, this one included.
func (t timing) next(resp *Response, err error, failures int) (wait, hold time.Duration) {
	if err == nil {
		wait = t.interval
		if resp != nil && resp.NextHeartbeat > 0 {
			wait = t.clamp(resp.NextHeartbeat)
		}
		return wait, t.min
	}
	if errors.Is(err, ErrUnavailable) {
		wait = t.backoff(failures)
	} else {
		// Definitive answers and configuration errors: retrying sooner
		// cannot help, so keep the normal pace; never hot-loop.
		wait = t.interval
	}
	ra := min(retryAfterOf(err), t.max)
	return max(wait, ra), max(t.base, ra)
}
