package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
	"github.com/licensekit/licensekit/controlplane/storetest"
)

const (
	urlEnv     = "LICENSEKIT_TEST_POSTGRES"
	requireEnv = "LICENSEKIT_REQUIRE_POSTGRES"
)

// serverURL is the URL of the PostgreSQL server the tests use, from
// LICENSEKIT_TEST_POSTGRES. Without it the test is skipped, or fails when
// LICENSEKIT_REQUIRE_POSTGRES=1 (as in CI).
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(urlEnv)
	if u == "" {
		const msg = "no PostgreSQL to test against: set " + urlEnv + " to a server's URL, " +
			"e.g. run `eval \"$(bash .ci/postgres)\"` in the repository's root (it starts a private server), " +
			"then go test ./controlplane/postgres/"
		if os.Getenv(requireEnv) == "1" {
			t.Fatal(msg + " (" + requireEnv + "=1: a missing server is a failure)")
		}
		t.Skip(msg)
	}
	return u
}

// freshDB creates a database of a random name on the test server and
// returns its URL; the test's Cleanup drops it.
func freshDB(t testing.TB) string {
	t.Helper()
	admin := serverURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "licensekit_test_" + hex.EncodeToString(b)
	adminExec(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() { adminExec(t, admin, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// adminExec runs statements on their own connection to rawURL.
func adminExec(t testing.TB, rawURL string, sqls ...string) {
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

func TestConformance(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) controlplane.Store {
		s, err := postgres.Open(context.Background(), freshDB(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
