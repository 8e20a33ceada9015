package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables.
const (
	EnvURL     = "LICENSEKIT_TEST_POSTGRES"    // URL of a server whose user may create databases
	EnvRequire = "LICENSEKIT_REQUIRE_POSTGRES" // "1": a missing server fails the test instead of skipping it
)

// ServerURL is the URL of the test server. Without one the test is
// skipped, or fails under LICENSEKIT_REQUIRE_POSTGRES=1.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		const msg = "no PostgreSQL to test against: set " + EnvURL + " to a server's URL, " +
			"e.g. run `eval \"$(bash .ci/postgres)\"` in the repository's root (it starts a private server), then run the tests again"
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg + " (" + EnvRequire + "=1: a missing server is a failure)")
		}
		t.Skip(msg)
	}
	return u
}

// FreshDB creates a database of a random name on the server at admin
// (ServerURL's when admin is "") and returns its URL; the test's cleanup
// drops it.
func FreshDB(t testing.TB, admin string) string {
	t.Helper()
	if admin == "" {
		admin = ServerURL(t)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "licensekit_test_" + hex.EncodeToString(b)
	Exec(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() { Exec(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	return WithDatabase(t, admin, name)
}

// WithDatabase is rawURL naming database name instead.
func WithDatabase(t testing.TB, rawURL, name string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Exec runs statements on a connection of their own to rawURL.
func Exec(t testing.TB, rawURL string, sqls ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Private is a PostgreSQL server of one test's own, started with the
// repository's .ci/postgres, so that stopping it disturbs no other test.
type Private struct {
	URL string // of its postgres database
	t   testing.TB
	run func(args ...string) (string, error)
}

// StartPrivate starts a private server (skipping or failing as
// ServerURL does when PostgreSQL is not there to test against); the
// test's cleanup removes it.
func StartPrivate(t testing.TB) *Private {
	t.Helper()
	ServerURL(t)
	script, err := scriptPath()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "licensekit-pg-private-")
	if err != nil {
		t.Fatal(err)
	}
	// The server runs as the postgres user when we are root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Private{t: t}
	p.run = func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Env = append(os.Environ(), "LICENSEKIT_PG_DIR="+filepath.Join(dir, "pg"), "LICENSEKIT_PG_NO_INSTALL=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", errors.New(strings.TrimSpace(stderr.String()) + ": " + err.Error())
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		if _, err := p.run("destroy"); err != nil {
			t.Errorf("destroy the private server: %v", err)
		}
		os.RemoveAll(dir)
	})
	out, err := p.run("start")
	if err != nil {
		t.Fatalf("start a private server with %s: %v", script, err)
	}
	u, ok := strings.CutPrefix(strings.TrimSpace(out), EnvURL+"='")
	u, _, ok2 := strings.Cut(u, "'")
	if !ok || !ok2 {
		t.Fatalf("%s printed %q", script, out)
	}
	p.URL = u
	return p
}

// Stop stops the server (a fast shutdown: sessions are cut), keeping its
// data and port.
func (p *Private) Stop() { p.do("stop") }

// Start starts it again on the same port.
func (p *Private) Start() { p.do("start") }

func (p *Private) do(cmd string) {
	p.t.Helper()
	if _, err := p.run(cmd); err != nil {
		p.t.Fatalf(".ci/postgres %s: %v", cmd, err)
	}
}

// scriptPath finds .ci/postgres from this file's place in the repository.
func scriptPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("pgtest: cannot locate the repository")
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", ".ci", "postgres")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}
