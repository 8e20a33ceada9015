package grace_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/grace"
)

var (
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // lease issued
	exp = t0.Add(14 * 24 * time.Hour)                  // lease exp: the default two weeks
	day = 24 * time.Hour
)

func activeLease() *grace.Lease {
	return grace.FakeLease(grace.Lease{ID: "lea_1", LicenseID: "lic_1", Status: grace.StatusActive, Fingerprint: "fp", IssuedAt: t0, ExpiresAt: exp})
}

func TestCheckWindow(t *testing.T) {
	hw := t0.Add(3 * day) // the clock's high-water mark, three days into the outage
	withLease := func(mod func(*grace.Lease)) *grace.Lease {
		l := activeLease()
		if mod != nil {
			mod(l)
		}
		return l
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name      string
		policy    grace.Policy
		st        grace.State
		now       time.Time
		want      error // nil: allowed
		remaining time.Duration
		deadline  time.Time
	}{
		{name: "in the window", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw, remaining: 11 * day, deadline: exp},
		{name: "no high-water mark yet", st: grace.State{Lease: activeLease()}, now: t0.Add(time.Hour), remaining: 14*day - time.Hour, deadline: exp},
		{name: "exactly at the deadline", st: grace.State{Lease: activeLease(), HighWater: hw}, now: exp, remaining: 0, deadline: exp},
		{name: "one second past the deadline", st: grace.State{Lease: activeLease(), HighWater: hw}, now: exp.Add(time.Second), want: grace.ErrGraceExpired, deadline: exp},
		{name: "high-water mark past the deadline", st: grace.State{Lease: activeLease(), HighWater: exp.Add(time.Second)}, now: exp.Add(-time.Minute), want: grace.ErrGraceExpired, deadline: exp},

		// Rollbacks below the high-water mark: tolerated ones never add time.
		{name: "rollback 1s", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-time.Second), remaining: 11 * day, deadline: exp},
		{name: "rollback 59min", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-59 * time.Minute), remaining: 11 * day, deadline: exp},
		{name: "rollback exactly 1h", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-time.Hour), remaining: 11 * day, deadline: exp},
		{name: "rollback 1h+1s", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-time.Hour - time.Second), want: grace.ErrClockTampered},
		{name: "rollback 61min", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-61 * time.Minute), want: grace.ErrClockTampered},
		{name: "rollback 1 day", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-day), want: grace.ErrClockTampered},
		{name: "rollback 1 year", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.AddDate(-1, 0, 0), want: grace.ErrClockTampered},
		{name: "rollback to before the lease was issued", st: grace.State{Lease: activeLease()}, now: t0.Add(-2 * time.Hour), want: grace.ErrClockTampered},
		{name: "rollback with no lease is still tampering", st: grace.State{HighWater: hw}, now: hw.Add(-2 * time.Hour), want: grace.ErrClockTampered},

		// Forward jumps use up grace, they never add it.
		{name: "forward jump 1 day", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(day), remaining: 10 * day, deadline: exp},
		{name: "forward jump 1 year", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.AddDate(1, 0, 0), want: grace.ErrGraceExpired, deadline: exp},

		// Time zones: the same instants, other locations.
		{name: "now in Berlin", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.In(berlin), remaining: 11 * day, deadline: exp},
		{name: "now in UTC-11", st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.In(time.FixedZone("SST", -11*3600)), remaining: 11 * day, deadline: exp},
		{name: "high-water mark in UTC+14", st: grace.State{Lease: activeLease(), HighWater: hw.In(time.FixedZone("LINT", 14*3600))}, now: hw, remaining: 11 * day, deadline: exp},
		{name: "deadline in Berlin", st: grace.State{Lease: activeLease(), HighWater: hw}, now: exp.In(berlin), remaining: 0, deadline: exp},
		{name: "one second past, in UTC-11", st: grace.State{Lease: activeLease(), HighWater: hw}, now: exp.Add(time.Second).In(time.FixedZone("SST", -11*3600)), want: grace.ErrGraceExpired, deadline: exp},

		// Sticky facts and lease status.
		{name: "clock tampered flag is sticky", st: grace.State{Lease: activeLease(), HighWater: hw, ClockTampered: true}, now: hw, want: grace.ErrClockTampered},
		{name: "revoked flag is sticky", st: grace.State{Lease: activeLease(), HighWater: hw, Revoked: true}, now: hw, want: grace.ErrRevoked},
		{name: "revoked beats tampered", st: grace.State{Lease: activeLease(), Revoked: true, ClockTampered: true}, now: hw, want: grace.ErrRevoked},
		{name: "lease says revoked", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.Status = grace.StatusRevoked }), HighWater: hw}, now: hw, want: grace.ErrRevoked},
		{name: "lease says suspended", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.Status = grace.StatusSuspended }), HighWater: hw}, now: hw, want: grace.ErrSuspended},
		{name: "unknown lease status", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.Status = "paused" }), HighWater: hw}, now: hw, want: grace.ErrNoLease},
		{name: "no lease", st: grace.State{HighWater: hw}, now: hw, want: grace.ErrNoLease},
		{name: "zero state", now: hw, want: grace.ErrNoLease},

		// Configuration may shorten the window, never extend it.
		{name: "MaxGrace 7 days shortens", policy: grace.Policy{MaxGrace: 7 * day}, st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw, remaining: 4 * day, deadline: t0.Add(7 * day)},
		{name: "MaxGrace 7 days, at its deadline", policy: grace.Policy{MaxGrace: 7 * day}, st: grace.State{Lease: activeLease()}, now: t0.Add(7 * day), remaining: 0, deadline: t0.Add(7 * day)},
		{name: "MaxGrace 7 days, 1s past", policy: grace.Policy{MaxGrace: 7 * day}, st: grace.State{Lease: activeLease()}, now: t0.Add(7*day + time.Second), want: grace.ErrGraceExpired, deadline: t0.Add(7 * day)},
		{name: "MaxGrace 30 days does not extend", policy: grace.Policy{MaxGrace: 30 * day}, st: grace.State{Lease: activeLease()}, now: exp.Add(time.Second), want: grace.ErrGraceExpired, deadline: exp},
		{name: "negative MaxGrace allows nothing", policy: grace.Policy{MaxGrace: -time.Second}, st: grace.State{Lease: activeLease()}, now: t0, want: grace.ErrGraceExpired, deadline: t0.Add(-time.Second)},
		{name: "tolerance 5min, rollback 6min", policy: grace.Policy{Tolerance: 5 * time.Minute}, st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-6 * time.Minute), want: grace.ErrClockTampered},
		{name: "tolerance 2h, rollback 61min", policy: grace.Policy{Tolerance: 2 * time.Hour}, st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-61 * time.Minute), remaining: 11 * day, deadline: exp},
		{name: "negative tolerance, rollback 1s", policy: grace.Policy{Tolerance: -1}, st: grace.State{Lease: activeLease(), HighWater: hw}, now: hw.Add(-time.Second), want: grace.ErrClockTampered},

		// The window is measured on the local clock from receipt: a clock
		// off by a constant neither adds nor removes real time, and server
		// time is never compared with local time.
		{name: "local clock 3h slow: 14 local days from receipt", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-3 * time.Hour) })}, now: exp.Add(-3 * time.Hour), remaining: 0, deadline: exp.Add(-3 * time.Hour)},
		{name: "local clock 3h slow: 1s past the local deadline", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-3 * time.Hour) })}, now: exp.Add(-3*time.Hour + time.Second), want: grace.ErrGraceExpired, deadline: exp.Add(-3 * time.Hour)},
		{name: "local clock 3h slow is not tampering", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-3 * time.Hour) }), HighWater: t0.Add(-3 * time.Hour)}, now: t0.Add(-3 * time.Hour), remaining: 14 * day, deadline: exp.Add(-3 * time.Hour)},
		{name: "local clock 12h slow (the bound) gets 14 local days", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-12 * time.Hour) })}, now: t0.Add(14*day - 12*time.Hour), remaining: 0, deadline: t0.Add(14*day - 12*time.Hour)},
		{name: "local clock 12h+1s slow banks nothing", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-12*time.Hour - time.Second) })}, now: t0.Add(-12 * time.Hour), want: grace.ErrClockTampered},
		{name: "local clock a year slow banks nothing", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.AddDate(-1, 0, 0) })}, now: t0.AddDate(-1, 0, 0).Add(time.Hour), want: grace.ErrClockTampered},
		{name: "MaxBehind configured", policy: grace.Policy{MaxBehind: 2 * time.Hour}, st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-3 * time.Hour) })}, now: t0, want: grace.ErrClockTampered},
		{name: "no receipt time is no lease", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = time.Time{} })}, now: t0.Add(time.Hour), want: grace.ErrNoLease},
		{name: "charged time counts like the mark", st: grace.State{Lease: activeLease(), HighWater: hw, Charged: 10 * time.Minute}, now: hw, remaining: 11*day - 10*time.Minute, deadline: exp},
		{name: "charged time past the deadline", st: grace.State{Lease: activeLease(), HighWater: exp.Add(-5 * time.Minute), Charged: 10 * time.Minute}, now: exp.Add(-5 * time.Minute), want: grace.ErrGraceExpired, deadline: exp},
		{name: "charged time is not tampering", st: grace.State{Lease: activeLease(), HighWater: hw, Charged: 3 * time.Hour}, now: hw, remaining: 11*day - 3*time.Hour, deadline: exp},
		{name: "local clock 3h fast: exp still bounds", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(3 * time.Hour) })}, now: exp.Add(time.Second), want: grace.ErrGraceExpired, deadline: exp},
		{name: "rollback to before receipt", st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-3 * time.Hour) })}, now: t0.Add(-5 * time.Hour), want: grace.ErrClockTampered},
		{name: "MaxGrace counts from receipt", policy: grace.Policy{MaxGrace: 7 * day}, st: grace.State{Lease: withLease(func(l *grace.Lease) { l.ReceivedAt = t0.Add(-6 * time.Hour) })}, now: t0.Add(7*day - 6*time.Hour + time.Second), want: grace.ErrGraceExpired, deadline: t0.Add(7*day - 6*time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := tt.policy.Check(tt.st, tt.now)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.remaining, w.Remaining)
			} else {
				require.ErrorIs(t, err, tt.want)
				assert.Zero(t, w.Remaining)
			}
			if !tt.deadline.IsZero() {
				assert.True(t, w.Deadline.Equal(tt.deadline), "deadline %v, want %v", w.Deadline, tt.deadline)
			}
		})
	}
}

// A time.Now() value carries a monotonic reading; Check must compare wall
// clocks, or a clock set back would go unnoticed within a process.
func TestCheckIgnoresMonotonicReading(t *testing.T) {
	now := time.Now()
	st := grace.State{Lease: activeLease(), HighWater: now.Add(2 * time.Hour).Round(0)}
	_, err := grace.Policy{}.Check(st, now)
	assert.ErrorIs(t, err, grace.ErrClockTampered)
}

// Sweep the clock across the whole lease and beyond: the window never
// grows as now moves, and a tolerated rollback never gives more than the
// high-water mark allows.
func TestCheckNeverMoreThanTruth(t *testing.T) {
	p := grace.Policy{}
	for h := -48; h <= 16*24; h++ {
		now := t0.Add(time.Duration(h) * time.Hour)
		for _, back := range []time.Duration{0, time.Second, 30 * time.Minute, time.Hour, 2 * time.Hour} {
			st := grace.State{Lease: activeLease(), HighWater: now}
			w, err := p.Check(st, now.Add(-back))
			truth, terr := p.Check(st, now)
			if terr != nil {
				assert.Error(t, err, "now %v back %v", now, back)
				continue
			}
			if err == nil {
				assert.LessOrEqual(t, w.Remaining, truth.Remaining)
			} else {
				assert.True(t, errors.Is(err, grace.ErrClockTampered) || errors.Is(err, grace.ErrGraceExpired), "%v", err)
			}
		}
	}
}
