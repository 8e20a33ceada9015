package license

import (
	"context"
	"time"
)

// watch re-evaluates the state whenever time alone could change it (a
// lease's or licence's deadline) and at least every clockTick, moving the
// clock's high-water mark forward as it goes. It exits when ctx is done.
func (m *Manager) watch(ctx context.Context) {
	defer m.wg.Done()
	for {
		m.mu.Lock()
		m.observeClock()
		s, changed := m.evaluate()
		wait := m.nextWake(m.now())
		m.mu.Unlock()
		if changed {
			m.notify(s.status)
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
	// Observe returns what the file and this process know together, never
	// more generous than the truth, whatever the error.
	m.st = st
}

// notify calls OnChange, outside the lock.
func (m *Manager) notify(s Status) {
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(s)
	}
}
