package license

import (
	"context"
	"time"

	"github.com/licensekit/licensekit/grace"
)

// watch re-evaluates the state whenever time alone could change it (a
// lease's or licence's deadline) and at least every clockTick, moving the
// clock's high-water mark forward as it goes, and looks for a replaced
// key file. It exits when ctx is done.
func (m *Manager) watch(ctx context.Context) {
	defer m.wg.Done()
	for {
		// A key file replaced on disk is noticed here. Skipped while an
		// activation or deactivation is under way; the next turn looks.
		if m.cfg.KeyFile != "" && m.ctl.TryLock() {
			if !m.isClosed {
				_ = m.checkKeyFile(false)
			}
			m.ctl.Unlock()
		}
		m.mu.Lock()
		m.observeClock()
		_, changed := m.evaluate()
		wait := m.nextWake(m.now())
		m.mu.Unlock()
		if changed {
			m.notify()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-m.wake:
			t.Stop()
		}
	}
}

// poke asks the watchdog to re-arm its timer; it never blocks.
func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// observeClock moves the high-water mark forward in memory and lets the
// store persist it (it writes at most every few minutes). m.mu must be held.
func (m *Manager) observeClock() {
	if m.store == nil {
		return
	}
	st, err := m.store.Observe(m.now())
	if err != nil {
		m.log.Debug("licensekit: recording the clock", "err", err)
	}
	switch {
	case st.Lease != nil && st.Lease.IssuedAt.After(m.newestLease) && st.Lease.IssuedAt.After(m.st.Floor):
		// Another instance of the product got a fresher answer from the
		// control plane and stored it: adopt it whole. (Not a lease
		// issued before a refusal this process heard but could not save:
		// that falls through, and the refusal is written back.)
		m.st = st
		m.newestLease = st.Lease.IssuedAt
		m.dirty = false
		m.definitive = nil // the control plane answered that instance for this machine
	case st.Floor.After(m.st.Floor):
		// Another instance was refused by the control plane (revoked,
		// suspended, rebound, forgotten) and recorded it. A lease of ours
		// issued before that refusal is overtaken: take the file's verdict
		// whole. A lease issued after it is a fresher answer: keep it and
		// write it back.
		if m.st.Lease == nil || !m.st.Lease.IssuedAt.After(st.Floor) {
			st.HighWater = later(st.HighWater, m.st.HighWater)
			st.Charged = max(st.Charged, m.st.Charged)
			m.st = st
			m.dirty = false
		} else {
			m.st.Floor = st.Floor
			m.st.HighWater = later(m.st.HighWater, st.HighWater)
			m.st.Charged = max(m.st.Charged, st.Charged)
			m.dirty = true
		}
	case sameLease(st.Lease, m.st.Lease):
		// The file agrees with this process: its one-way facts count.
		m.st.HighWater = later(m.st.HighWater, st.HighWater)
		m.st.Charged = max(m.st.Charged, st.Charged)
		m.st.ClockTampered = m.st.ClockTampered || st.ClockTampered
		m.st.Revoked = m.st.Revoked || st.Revoked
		m.st.Suspended = m.st.Suspended || st.Suspended
	default:
		// The file lags behind what this process knows (a failed save, a
		// deleted or restored file), or holds a lease that is not newer
		// than ours: keep ours, and write it back.
		m.st.HighWater = later(m.st.HighWater, st.HighWater)
		m.st.Charged = max(m.st.Charged, st.Charged)
		m.dirty = true
	}
	if m.dirty {
		m.save()
	}
}

func sameLease(a, b *grace.Lease) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// notify wakes the notifier; it never blocks, and wake-ups coalesce.
func (m *Manager) notify() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// notifier calls OnChange, one call at a time, with the newest snapshot
// whenever its state differs from the one last told: so a listener never
// ends on a stale state, and a slow listener delays only itself.
func (m *Manager) notifier(ctx context.Context) {
	defer m.wg.Done()
	for {
		select {
		case <-ctx.Done():
			// A change made just before Close is still told.
			select {
			case <-m.changed:
				m.deliver()
			default:
			}
			return
		case <-m.changed:
			m.deliver()
		}
	}
}

func (m *Manager) deliver() {
	if s := m.snap.Load().status; s.State != m.notified {
		m.notified = s.State
		m.cfg.OnChange(s)
	}
}
