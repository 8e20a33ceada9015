package controlplane

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiters bounds the memory the rate limits use; past it, buckets that
// are full again (idle callers) are dropped, and if that frees too little,
// buckets in use too (see bucket).
const maxLimiters = 100_000

// maxRetryAfter caps the seconds a 429 asks a client to wait.
const maxRetryAfter = 3600

// limiters is one token bucket per key (a licence id or an API key id).
type limiters struct {
	limit rate.Limit
	burst int
	off   bool
	max   int // maxLimiters; smaller in tests

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
	return &limiters{limit: rate.Limit(cfg.PerSecond), burst: cfg.Burst, max: maxLimiters, m: map[string]*rate.Limiter{}}
}

// allow takes a token of key's bucket at now, or answers 429 with the
// seconds until one is there.
func (l *limiters) allow(key string, now time.Time) error {
	if l.off {
		return nil
	}
	res := l.bucket(key, now).ReserveN(now, 1)
	if !res.OK() {
		return tooMany(60)
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return tooMany(int(math.Ceil(d.Seconds())))
	}
	return nil
}

// bucket returns key's bucket, made full when new.
func (l *limiters) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[key]
	if lim == nil {
		if len(l.m) >= l.max {
			l.prune(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = lim
	}
	return lim
}

// lookup returns key's bucket, or nil when it has none (it is full).
func (l *limiters) lookup(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[key]
}

// spent answers 429 when key's bucket has no whole token at now, without
// taking one: the check before an attempt that only a failure pays for.
func (l *limiters) spent(key string, now time.Time) error {
	if l.off {
		return nil
	}
	lim := l.lookup(key) // no bucket is a full one: an attempt makes none
	if lim == nil {
		return nil
	}
	if tokens := lim.TokensAt(now); tokens < 1 {
		return tooMany(int(math.Ceil((1 - tokens) / float64(l.limit))))
	}
	return nil
}

// charge takes a token of key's bucket at now, if one is there.
func (l *limiters) charge(key string, now time.Time) {
	if !l.off {
		l.bucket(key, now).AllowN(now, 1)
	}
}

// clientAddr is the address a request's failures are counted by: the
// connection's IP, an IPv6 one by its /64 (one host's usual share).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// prune drops the buckets that are full again. If that leaves more than
// nine tenths of max (callers busy at once, or one caller with many
// addresses failing from each), it drops arbitrary ones down to that:
// memory stays bounded, and the next scan is a tenth of max inserts
// away, not one. A dropped bucket starts full again; a caller needs more
// than max busy keys of its own to have its bucket dropped that way.
func (l *limiters) prune(now time.Time) {
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
	keep := l.max - l.max/10
	for k := range l.m {
		if len(l.m) <= keep {
			break
		}
		delete(l.m, k)
	}
}

func tooMany(seconds int) *apiError {
	// Retry-After stays within what a client can sensibly wait.
	seconds = min(max(seconds, 1), maxRetryAfter)
	e := newError(http.StatusTooManyRequests, CodeRateLimited, "Too many requests; retry later")
	e.retryAfter = seconds
	return e
}
