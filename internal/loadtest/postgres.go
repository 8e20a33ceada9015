package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// scratchDB is a database of the run's own on the server at Config.DB,
// dropped at the end.
type scratchDB struct {
	admin, url, name string
}

func createScratchDB(ctx context.Context, admin string) (*scratchDB, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := &scratchDB{admin: admin, name: "licensekit_load_" + hex.EncodeToString(b)}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("loadtest: -db: %w", ErrConfig)
	}
	u.Path = "/" + d.name
	d.url = u.String()
	if err := execOn(ctx, admin, `CREATE DATABASE `+d.name); err != nil {
		return nil, fmt.Errorf("loadtest: creating a database for the run (the -db user must be allowed to): %w", err)
	}
	return d, nil
}

func (d *scratchDB) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return execOn(ctx, d.admin, `DROP DATABASE IF EXISTS `+d.name+` WITH (FORCE)`)
}

// via is the database's URL through a proxy at addr, without TLS (the
// proxy reads nothing, but counts; both ends are on this machine).
func (d *scratchDB) via(addr string) string {
	u, _ := url.Parse(d.url)
	u.Host = addr
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String()
}

// hostPort is the server's address in the URL, port 5432 when none.
func (d *scratchDB) hostPort() string {
	u, _ := url.Parse(d.url)
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

func execOn(ctx context.Context, rawURL string, sqls ...string) error {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%.60s: %w", q, err)
		}
	}
	return nil
}

// rowCounter counts the rows every table of the database gets written
// (inserted, updated or deleted), through a row trigger on each that
// advances a sequence: a sequence is not transactional, so the count is
// there at once, for any session.
type rowCounter struct {
	conn *pgx.Conn
}

func installRowCounter(ctx context.Context, rawURL string) (*rowCounter, error) {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_version'`)
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	sqls := []string{`CREATE SEQUENCE loadtest_rows_written`, `CREATE FUNCTION loadtest_count_row() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN PERFORM nextval('loadtest_rows_written'); RETURN NULL; END $$`}
	for _, t := range tables {
		sqls = append(sqls, `CREATE TRIGGER loadtest_count_rows AFTER INSERT OR UPDATE OR DELETE ON `+
			pgx.Identifier{t}.Sanitize()+` FOR EACH ROW EXECUTE FUNCTION loadtest_count_row()`)
	}
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("loadtest: counting rows: %w", err)
		}
	}
	return &rowCounter{conn: conn}, nil
}

// written is the rows written so far.
func (r *rowCounter) written(ctx context.Context) (int64, error) {
	var n int64
	var called bool
	if err := r.conn.QueryRow(ctx, `SELECT last_value, is_called FROM loadtest_rows_written`).Scan(&n, &called); err != nil {
		return 0, err
	}
	if !called {
		return 0, nil
	}
	return n, nil
}

func (r *rowCounter) close() { _ = r.conn.Close(context.Background()) }
