package controlplane

import (
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiters bounds the memory the rate limits use; past it, buckets that
// are full again (idle callers) are dropped.
const maxLimiters = 100_000

// maxRetryAfter caps the seconds a 429 asks a client to wait.
const maxRetryAfter = 3600

// limiters is one token bucket per key (a licence id or an API key id).
type limiters struct {
	limit rate.Limit
	burst int
	off   bool

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newLimiters(cfg, def RateLimit) *limiters {
	if cfg.PerSecond == 0 && cfg.Burst == 0 {
		cfg = def
	}
	if cfg.PerSecond < 0 {
		return &limiters{off: true}
	}
	if cfg.PerSecond == 0 {
		// A burst without a rate: the default rate. A rate of zero would
		// make the burst a budget spent for good.
		cfg.PerSecond = def.PerSecond
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	return &limiters{limit: rate.Limit(cfg.PerSecond), burst: cfg.Burst, m: map[string]*rate.Limiter{}}
}

// allow takes a token of key's bucket at now, or answers 429 with the
// seconds until one is there.
func (l *limiters) allow(key string, now time.Time) error {
	if l.off {
		return nil
	}
	l.mu.Lock()
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= maxLimiters {
			l.prune(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return tooMany(60)
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return tooMany(int(math.Ceil(d.Seconds())))
	}
	return nil
}

func (l *limiters) prune(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
}

func tooMany(seconds int) *apiError {
	// Retry-After stays within what a client can sensibly wait.
	seconds = min(max(seconds, 1), maxRetryAfter)
	e := newError(http.StatusTooManyRequests, CodeRateLimited, "Too many requests; retry later")
	e.retryAfter = seconds
	return e
}
