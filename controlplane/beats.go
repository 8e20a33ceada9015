package controlplane

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// beatBatch is the most beats one RecordBeats call carries.
const beatBatch = 256

// beatKey names one binding.
type beatKey struct{ license, fingerprint string }

// beatBuffer holds heartbeat bookkeeping that is written to the store
// behind the answer: at least every flush interval, sooner when many beats
// wait, and on close. State changes never pass through it. In write-through
// mode (Config.FlushInterval < 0) it holds nothing: each beat is written
// before it is answered, and no goroutine runs. It also
// remembers the iat of the newest lease issued to each binding, so that
// successive leases to one machine have strictly increasing iat even
// while their bookkeeping is not yet stored.
type beatBuffer struct {
	store    Store
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration

	// sem is held by the one flush running: a flush asked for while
	// another writes waits for it, so that "flushed" means every beat
	// answered so far is stored (the sweep relies on that), and the beats
	// in flight stay visible to overlay until they are.
	sem chan struct{}

	mu       sync.Mutex
	closed   bool // after close (and in write-through mode), beats are written as they come
	pending  map[beatKey]Beat
	inflight map[beatKey]Beat
	recent   map[beatKey]time.Time // newest lease iat issued per binding
	newest   map[beatKey]leaseMark // and that lease, to answer it again

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

// newBeatBuffer starts the writer; a negative interval means write-through:
// no writer, every beat stored as it comes.
func newBeatBuffer(st Store, interval time.Duration, log *slog.Logger, now func() time.Time) *beatBuffer {
	b := &beatBuffer{store: st, log: log, now: now, interval: interval,
		pending: map[beatKey]Beat{}, inflight: map[beatKey]Beat{}, recent: map[beatKey]time.Time{},
		newest: map[beatKey]leaseMark{},
		sem:    make(chan struct{}, 1),
		kick:   make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if interval < 0 {
		b.closed = true
		close(b.done)
		return b
	}
	go b.run()
	return b
}

// writeThrough reports whether beats are stored before they are answered.
func (b *beatBuffer) writeThrough() bool { return b.interval < 0 }

func (b *beatBuffer) run() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = b.flush(ctx)
		cancel()
	}
}

// add queues a beat and remembers its lease's iat. After close (a request
// that was in flight when the Server closed), and in write-through mode,
// the beat is written at once.
func (b *beatBuffer) add(beat Beat) {
	k := beatKey{beat.LicenseID, beat.Fingerprint}
	b.mu.Lock()
	if b.closed {
		b.noteLocked(k, beat.LeaseIssuedAt)
		if b.writeThrough() {
			b.pruneLocked() // no flush runs to do it
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.store.RecordBeats(ctx, []Beat{beat}); err != nil {
			b.log.LogAttrs(ctx, slog.LevelWarn, "controlplane: writing heartbeat bookkeeping failed",
				slog.String("error", err.Error()))
		}
		return
	}
	if old, ok := b.pending[k]; !ok || beat.At.After(old.At) {
		b.pending[k] = beat
	}
	b.noteLocked(k, beat.LeaseIssuedAt)
	n := len(b.pending)
	b.mu.Unlock()
	if n >= beatBatch {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

func (b *beatBuffer) noteLocked(k beatKey, iat time.Time) {
	if iat.After(b.recent[k]) {
		b.recent[k] = iat
	}
}

// leaseMark is what a lease said: enough to sign the same lease again.
type leaseMark struct {
	id, fpr, status string
	iat, exp        time.Time
}

// rememberLease notes the lease issued to the binding (licenseID, the
// recorded fingerprint).
func (b *beatBuffer) rememberLease(licenseID, fingerprint string, m leaseMark) {
	k := beatKey{licenseID, fingerprint}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !m.iat.Before(b.newest[k].iat) {
		b.newest[k] = m
	}
	b.noteLocked(k, m.iat)
}

// newestLease is the newest lease this process issued to the binding.
func (b *beatBuffer) newestLease(licenseID, fingerprint string) (leaseMark, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.newest[beatKey{licenseID, fingerprint}]
	return m, ok
}

// lastLease is the iat of the newest lease this process issued to the
// binding, zero when it issued none lately.
func (b *beatBuffer) lastLease(licenseID, fingerprint string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.recent[beatKey{licenseID, fingerprint}]
}

// overlay applies the beats not yet stored to l's bindings, so that a
// state change written now carries the newest bookkeeping (above all the
// exp of the newest lease, which decides how long a released seat stays
// held).
func (b *beatBuffer) overlay(l *License) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range l.Machines {
		m := &l.Machines[i]
		k := beatKey{l.ID, m.Fingerprint}
		for _, src := range []map[beatKey]Beat{b.inflight, b.pending} {
			if beat, ok := src[k]; ok && beat.At.After(m.LastHeartbeatAt) && m.ReleasedAt.IsZero() {
				applyBeat(m, beat)
			}
		}
	}
}

func applyBeat(m *Machine, beat Beat) {
	m.LastHeartbeatAt, m.DueAt = beat.At, beat.DueAt
	m.LeaseIssuedAt, m.LeaseExpiresAt = beat.LeaseIssuedAt, beat.LeaseExpiresAt
	m.KeySlot, m.KeyDigest, m.Dead = beat.KeySlot, beat.KeyDigest, false
}

// flush writes the waiting beats in batches. Beats of a failed batch go
// back to wait, unless a newer beat of the binding came meanwhile.
func (b *beatBuffer) flush(ctx context.Context) error {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	defer func() { <-b.sem }()
	b.mu.Lock()
	if len(b.pending) == 0 {
		b.pruneLocked()
		b.mu.Unlock()
		return nil
	}
	b.inflight, b.pending = b.pending, map[beatKey]Beat{}
	batch := make([]Beat, 0, len(b.inflight))
	for _, beat := range b.inflight {
		batch = append(batch, beat)
	}
	b.mu.Unlock()
	slices.SortFunc(batch, func(x, y Beat) int {
		return cmp.Or(cmp.Compare(x.LicenseID, y.LicenseID), cmp.Compare(x.Fingerprint, y.Fingerprint))
	})
	var firstErr error
	var failed []Beat
	for i := 0; i < len(batch); i += beatBatch {
		part := batch[i:min(i+beatBatch, len(batch))]
		if err := b.store.RecordBeats(ctx, part); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			failed = append(failed, part...)
		}
	}
	if firstErr != nil {
		b.log.LogAttrs(ctx, slog.LevelWarn, "controlplane: writing heartbeat bookkeeping failed; will retry",
			slog.Int("beats", len(failed)), slog.String("error", firstErr.Error()))
	}
	b.mu.Lock()
	for _, beat := range failed {
		k := beatKey{beat.LicenseID, beat.Fingerprint}
		if cur, ok := b.pending[k]; !ok || beat.At.After(cur.At) {
			b.pending[k] = beat
		}
	}
	b.inflight = map[beatKey]Beat{}
	b.pruneLocked()
	b.mu.Unlock()
	return firstErr
}

// pruneLocked forgets lease iats older than a minute: any lease issued
// from now on has a later iat anyway.
func (b *beatBuffer) pruneLocked() {
	cut := b.now().Add(-time.Minute)
	for k, iat := range b.recent {
		if iat.Before(cut) {
			delete(b.recent, k)
		}
	}
	for k, m := range b.newest {
		if m.iat.Before(cut) {
			delete(b.newest, k)
		}
	}
}

// close stops the writer and writes what waits.
func (b *beatBuffer) close() error {
	b.mu.Lock()
	wasClosed := b.closed
	b.closed = true
	b.mu.Unlock()
	if !wasClosed {
		close(b.stop)
	}
	<-b.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return b.flush(ctx)
}
