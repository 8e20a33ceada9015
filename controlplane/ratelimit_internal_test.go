package controlplane

import (
	"fmt"
	"testing"
	"time"
)

// The failure limiter is keyed by client address, which a caller with a
// routed IPv6 prefix chooses freely: however many addresses fail, the
// buckets stay within max, and a new address past it does not scan them
// all again each time.
func TestAuthFailureBucketsBounded(t *testing.T) {
	l := newLimiters(DefaultAuthFailureLimit, DefaultAuthFailureLimit)
	l.max = 1000
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	most := 0
	for i := range 5 * l.max {
		key := fmt.Sprintf("2001:db8:%x:%x::/64", i>>16, i&0xffff)
		if err := l.spent(key, now); err != nil {
			t.Fatalf("address %d: %v", i, err)
		}
		l.charge(key, now)
		l.mu.Lock()
		most = max(most, len(l.m))
		l.mu.Unlock()
	}
	if most > l.max {
		t.Fatalf("%d buckets for %d failing addresses, want at most %d", most, 5*l.max, l.max)
	}
}

// A failure makes a bucket; an attempt alone, good or yet unknown, does
// not.
func TestAuthAttemptMakesNoBucket(t *testing.T) {
	l := newLimiters(DefaultAuthFailureLimit, DefaultAuthFailureLimit)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 100 {
		if err := l.spent(fmt.Sprintf("192.0.2.%d", i), now); err != nil {
			t.Fatal(err)
		}
	}
	l.charge("192.0.2.200", now)
	l.mu.Lock()
	n := len(l.m)
	l.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d buckets after 100 attempts and one failure, want 1", n)
	}
}
