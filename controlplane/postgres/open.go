package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/licensekit/licensekit/controlplane"
)

// Store is the PostgreSQL [controlplane.Store]. It is safe for concurrent
// use, also by several processes on one database.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
}

var _ controlplane.Store = (*Store)(nil)

type config struct {
	timeout time.Duration
	wrap    func(net.Conn) net.Conn // for tests: watches each connection
}

// Option changes how [Open] opens the database.
type Option func(*config)

// StatementTimeout is the longest one statement may run, waiting for a
// lock included, before the database cancels it and the call fails with
// [controlplane.ErrUnavailable] (default 5 s; 0 means no limit). It is
// set on every connection, and so is the same limit on a transaction left
// idle, so that neither a slow query nor a stuck process holds a
// connection or a lock for longer.
func StatementTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// Open connects to the database at rawURL, a postgres:// (or
// postgresql://) URL such as
//
//	postgres://licensekit:secret@db.internal:5432/licensekit?sslmode=verify-full
//
// and migrates its schema. The URL's parameters are those of libpq and
// pgx; pool_max_conns, for one, sizes the pool of connections (default:
// the number of CPUs, at least 4). A URL that cannot be used is an error
// naming the problem, never echoing a password; a database that does not
// answer is an error at once, not at the first call.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	c := config{timeout: 5 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	if c.timeout < 0 {
		return nil, fmt.Errorf("%w: statement timeout %v", ErrOpen, c.timeout)
	}
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	ms := strconv.FormatInt(c.timeout.Milliseconds(), 10)
	rp := cfg.ConnConfig.RuntimeParams
	rp["statement_timeout"] = ms
	rp["idle_in_transaction_session_timeout"] = ms
	rp["TimeZone"] = "UTC"
	// The store's locking is written for read committed (a statement after
	// an advisory lock sees what its previous holder committed; a single
	// UPDATE waits for a concurrent one rather than failing), so every
	// connection runs at it whatever the database's default says: a batch
	// is an implicit transaction at the session's level.
	rp["default_transaction_isolation"] = "read committed"
	if rp["application_name"] == "" {
		rp["application_name"] = "licensekit"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if c.wrap != nil {
		dial := cfg.ConnConfig.DialFunc
		cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return c.wrap(conn), nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrOpen, redact(rawURL), err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		switch {
		case errors.Is(err, controlplane.ErrSchemaTooNew):
			return nil, fmt.Errorf("postgres: %s: %w", redact(rawURL), err)
		case unreachable(ctx, err):
			// The caller may try again later.
			return nil, fmt.Errorf("%w: %s: %w", ErrOpen, redact(rawURL), fail(ctx, "migrate", err))
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrOpen, redact(rawURL), err)
	}
	return &Store{pool: pool}, nil
}

// parseURL checks that rawURL is a postgres URL and parses it.
func parseURL(rawURL string) (*pgxpool.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("%w: not a URL: %v", ErrOpen, err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		// Not echoed: it may be a key=value string with a password in it.
		return nil, fmt.Errorf("%w: scheme %.20q: want a postgres:// URL", ErrOpen, u.Scheme)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			err = pe.Unwrap()
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrOpen, redact(rawURL), err)
	}
	return cfg, nil
}

// redact is the URL with its password replaced, fit for an error.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "the URL"
	}
	return u.Redacted()
}

// check reports whether the store can answer a call under ctx.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: closed: %w", controlplane.ErrUnavailable)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %w: %w", controlplane.ErrUnavailable, err)
	}
	return nil
}

// batch sends b in one round trip. Its statements run in one implicit
// transaction: if one fails, none has changed anything. read, if not nil,
// reads the results in order.
func (s *Store) batch(ctx context.Context, what string, b *pgx.Batch, read func(br pgx.BatchResults) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	br := s.pool.SendBatch(ctx, b)
	var err error
	if read != nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(ctx, what, err)
	}
	return nil
}

// txOptions is every explicit transaction's: read committed, as the
// session's default is set at connection (see Open).
var txOptions = pgx.TxOptions{IsoLevel: pgx.ReadCommitted}

// tx runs fn in a transaction and commits it.
func (s *Store) tx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := pgx.BeginTxFunc(ctx, s.pool, txOptions, fn); err != nil {
		return fail(ctx, what, err)
	}
	return nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return fail(ctx, "ping", err)
	}
	return nil
}

// Close closes the pool's connections; every later call but Close returns
// [controlplane.ErrUnavailable].
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}
