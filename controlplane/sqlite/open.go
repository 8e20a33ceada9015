package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the SQLite [controlplane.Store]. It is safe for concurrent use,
// also by several processes on one file.
type Store struct {
	w, r   *sql.DB    // one writing connection; a pool of reading ones
	wq, rq *readStmts // getLicense's queries, prepared on w and on r
	closed atomic.Bool
}

var _ controlplane.Store = (*Store)(nil)

type config struct {
	busy    time.Duration
	readers int
	full    bool
}

// Option changes how [Open] opens the database.
type Option func(*config)

// BusyTimeout is how long a write waits for the database's write lock
// that another process holds (default 5 s).
func BusyTimeout(d time.Duration) Option { return func(c *config) { c.busy = d } }

// Readers is the number of reading connections (default: the number of
// CPUs, at least 4).
func Readers(n int) Option { return func(c *config) { c.readers = n } }

// SyncFull makes every commit fsync the WAL (synchronous=FULL): a change
// then survives a power loss too, not only a crash of the process. It
// costs one fsync per write.
func SyncFull() Option { return func(c *config) { c.full = true } }

// Open opens the database at path, creating it if it does not exist, and
// migrates its schema. The path is a file name; it must not be ":memory:"
// or hold a '?', because the writer and the readers are separate
// connections to one file.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	c := config{busy: 5 * time.Second, readers: max(4, runtime.NumCPU())}
	for _, o := range opts {
		o(&c)
	}
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#\x00") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("%w: path %q: want a plain file name", ErrOpen, path)
	}
	if c.readers < 1 || c.busy < 0 {
		return nil, fmt.Errorf("%w: %d readers, busy timeout %v", ErrOpen, c.readers, c.busy)
	}
	sync := "NORMAL"
	if c.full {
		sync = "FULL"
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(c.busy.Milliseconds()))
	q.Set("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrOpen, path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrateWhenFree(ctx, w, c.busy); err != nil {
		w.Close()
		return nil, fmt.Errorf("%q: %w", path, err)
	}

	q.Set("_txlock", "deferred")
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("%w: %q: %v", ErrOpen, path, err)
	}
	r.SetMaxOpenConns(c.readers)
	r.SetMaxIdleConns(c.readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("%w: %q: %v", ErrOpen, path, err)
	}
	st := &Store{w: w, r: r}
	if st.wq, err = prepareReads(ctx, w); err == nil {
		if st.rq, err = prepareReads(ctx, r); err != nil {
			st.wq.close()
		}
	}
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("%w: %q: preparing queries: %v", ErrOpen, path, err)
	}
	return st, nil
}

// check reports whether the store can answer a call under ctx.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: closed: %w", controlplane.ErrUnavailable)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w: %w", controlplane.ErrUnavailable, err)
	}
	return nil
}

// write runs fn in a BEGIN IMMEDIATE transaction on the writer and commits.
// busy is the error a locked database maps to.
func (s *Store) write(ctx context.Context, what string, busy error, fn func(tx *sql.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, what, err, busy)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fail(ctx, what, err, busy)
	}
	if err := tx.Commit(); err != nil {
		return fail(ctx, what, err, busy)
	}
	return nil
}

// read runs fn in a read transaction, one snapshot of the database.
func (s *Store) read(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return fail(ctx, what, err, controlplane.ErrUnavailable)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fail(ctx, what, err, controlplane.ErrUnavailable)
	}
	return nil
}

// Ping reports whether the database answers, reading and writing.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fail(ctx, "ping", err, controlplane.ErrUnavailable)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fail(ctx, "ping", err, controlplane.ErrUnavailable)
	}
	return nil
}

// Close closes the connections; every later call but Close returns
// [controlplane.ErrUnavailable].
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.wq.close()
	s.rq.close()
	errW, errR := s.w.Close(), s.r.Close()
	if errW != nil || errR != nil {
		return fmt.Errorf("sqlite: close: %v %v", errW, errR)
	}
	return nil
}
