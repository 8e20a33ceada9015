package controlplane

import (
	"context"
	"slices"
	"sync"
	"time"
)

// licenseCacheMax bounds the licences a cache holds; past it, an arbitrary
// entry makes room (a few KiB each, so tens of MiB at most).
const licenseCacheMax = 20000

// licenseCache keeps the licences heartbeats read, for Config.LicenseCacheTTL.
// Every change this Server makes to a licence drops its entry before the
// change is answered, and a sweep drops them all; a read that raced with a
// change is not kept (the generation moved on meanwhile). So within one
// process a heartbeat never sees a state older than the last change
// answered. Changes made by another process are seen once the entry is
// older than the TTL.
//
// Only what a heartbeat decides on comes from it (status, expiry, tokens,
// bindings, directives); bookkeeping such as the last beat may be stale
// in it, which the beat buffer's overlay and lease memory make up for.
type licenseCache struct {
	ttl time.Duration

	mu  sync.Mutex
	gen uint64
	m   map[string]cachedLicense
}

type cachedLicense struct {
	l  License
	at time.Time
}

func newLicenseCache(ttl time.Duration) *licenseCache {
	if ttl <= 0 {
		return nil
	}
	return &licenseCache{ttl: ttl, m: map[string]cachedLicense{}}
}

// licenseForBeat reads a licence for a heartbeat: from the cache when it
// is on and holds a fresh entry, else from the store.
func (s *Server) licenseForBeat(ctx context.Context, id string) (License, error) {
	c := s.cache
	if c == nil {
		return s.store.GetLicense(ctx, id)
	}
	now := s.now()
	c.mu.Lock()
	e, ok := c.m[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && !now.Before(e.at) && now.Sub(e.at) < c.ttl {
		l := e.l
		l.Machines = slices.Clone(l.Machines) // the caller overlays beats on them
		return l, nil
	}
	l, err := s.store.GetLicense(ctx, id)
	if err != nil {
		return l, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if _, had := c.m[id]; !had && len(c.m) >= licenseCacheMax {
			for k := range c.m {
				delete(c.m, k)
				break
			}
		}
		kept := l
		kept.Machines = slices.Clone(l.Machines)
		c.m[id] = cachedLicense{l: kept, at: now}
	}
	c.mu.Unlock()
	return l, nil
}

// forget drops one licence (all of them for id ""), and makes reads that
// began before it unfit to keep.
func (c *licenseCache) forget(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	if id == "" {
		clear(c.m)
	} else {
		delete(c.m, id)
	}
	c.mu.Unlock()
}
