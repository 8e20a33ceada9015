package serverapp_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/internal/serverapp"
)

// Bad flags and environment are a clear message, exit status 2, no panic,
// and no file made.
func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(work, "lk.db")
	cases := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"unknown flag", []string{"--bogus"}, "", "flag provided but not defined: -bogus"},
		{"argument", []string{"serve"}, "", `unexpected argument "serve"`},
		{"grace unit", []string{"--grace", "14x"}, "", `invalid value "14x" for flag -grace`},
		{"grace negative", []string{"--grace", "-1h"}, "", "must be positive"},
		{"grace too short", []string{"--grace", "30s"}, "", "--grace 30s: want 1h to 3650d"},
		{"grace too many days", []string{"--grace", "99999999d"}, "", "too many days"},
		{"interval zero", []string{"--heartbeat-interval", "0"}, "", "must be positive"},
		{"interval too long", []string{"--heartbeat-interval", "31d"}, "", "--heartbeat-interval 744h0m0s: want 1m to 30d"},
		{"license cache", []string{"--license-cache", "-5s"}, "", "must be positive"},
		{"shutdown timeout", []string{"--shutdown-timeout", "soon"}, "", `invalid value "soon"`},
		{"postgres without key file", []string{"--db", "postgres://u@localhost/lk"}, "", "--secret-key-file is required with a PostgreSQL --db"},
		{"postgresql without key file", []string{"--db", "postgresql://u@localhost/lk"}, "", "--secret-key-file is required"},
		{"postgres port", []string{"--db", "postgres://u:hunter2@localhost:notaport/lk", "--secret-key-file", filepath.Join(work, "lk.secret")}, "", `not a usable postgres:// URL: invalid port ":notaport"`},
		{"postgres pool size", []string{"--db", "postgres://u:hunter2@localhost/lk?pool_max_conns=many", "--secret-key-file", filepath.Join(work, "lk.secret")}, "", "postgres://u:xxxxx@localhost/lk?pool_max_conns=many: not a usable postgres:// URL: cannot parse pool_max_conns"},
		{"postgres sslmode", []string{"--db", "postgres://u@localhost/lk?sslmode=sometimes", "--secret-key-file", filepath.Join(work, "lk.secret")}, "", "sslmode is invalid"},
		{"postgres licence cache", []string{"--db", "postgres://u@localhost/lk", "--secret-key-file", filepath.Join(work, "lk.secret"), "--license-cache", "1m"}, "", "--license-cache 1m0s: at most 5s on PostgreSQL"},
		{"other URL", []string{"--db", "mysql://x"}, "", "want a SQLite file path"},
		{"db empty", []string{"--db", ""}, "", "--db is empty"},
		{"db memory", []string{"--db", ":memory:"}, "", "want a plain file path"},
		{"db query", []string{"--db", db + "?mode=ro"}, "", "want a plain file path"},
		{"db directory", []string{"--db", work}, "", "is a directory"},
		{"db no directory", []string{"--db", filepath.Join(dir, "nope", "lk.db")}, "", "is not usable"},
		{"secret key directory", []string{"--db", db, "--secret-key-file", work}, "", "--secret-key-file " + work + " is a directory"},
		{"tls cert alone", []string{"--db", db, "--tls-cert", garbage}, "", "--tls-cert and --tls-key go together"},
		{"tls missing", []string{"--db", db, "--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", garbage}, "", "--tls-cert " + filepath.Join(dir, "none.pem") + ": not a readable file"},
		{"tls garbage", []string{"--db", db, "--tls-cert", garbage, "--tls-key", garbage}, "", "--tls-cert/--tls-key"},
		{"addr", []string{"--db", db, "--addr", "8000"}, "", `--addr "8000": want host:port`},
		{"metrics addr", []string{"--db", db, "--metrics-addr", "metrics"}, "", `--metrics-addr "metrics": want host:port`},
		{"log format", []string{"--db", db, "--log-format", "xml"}, "", `--log-format "xml": want text or json`},
		{"issuer", []string{"--db", db, "--issuer", "acme corp"}, "", `--issuer "acme corp"`},
		{"admin key short", []string{"--db", db}, "short", "LICENSEKIT_ADMIN_KEY must be 16 to 256 visible ASCII characters"},
		{"admin key space", []string{"--db", db}, "a secret with spaces in it", "LICENSEKIT_ADMIN_KEY must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			getenv := func(k string) string {
				if k == serverapp.EnvAdminKey {
					return c.env
				}
				return ""
			}
			code := serverapp.Main(context.Background(), c.args, getenv, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Fatalf("stderr shows the password: %s", stderr.String())
			}
			if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine ") {
				t.Fatalf("stderr: %s", stderr.String())
			}
			if ents, _ := os.ReadDir(work); len(ents) != 0 {
				t.Fatalf("files made: %v", ents)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	if code := serverapp.Main(context.Background(), []string{"-h"}, func(string) string { return "" }, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-addr", "-db", "-grace", "-heartbeat-interval", "-issuer", "-secret-key-file",
		"-tls-cert", "-tls-key", "-metrics-addr", "-log-format", serverapp.EnvAdminKey} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help lacks %s", f)
		}
	}
}

// A port taken by another listener is a failure to start (exit 1), after
// which the database opens again.
func TestAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	var stderr bytes.Buffer
	args := []string{"--addr", ln.Addr().String(), "--db", filepath.Join(dir, "lk.db")}
	if code := serverapp.Main(context.Background(), args, func(string) string { return "" }, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "--addr") || !strings.Contains(stderr.String(), "address already in use") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	o := options(dir)
	start(t, o)
}

func TestParse(t *testing.T) {
	none := func(string) string { return "" }
	o, err := serverapp.Parse(nil, none, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != ":8000" || o.DB != "licensekit.db" || o.SecretKeyFile != "licensekit.db.secret" || o.Grace != 0 ||
		o.HeartbeatInterval != 0 || o.LicenseCache != 2*time.Hour || o.LogFormat != "text" || o.MetricsAddr != "" {
		t.Fatalf("defaults: %+v", o)
	}
	dir := t.TempDir()
	o, err = serverapp.Parse([]string{"--db", filepath.Join(dir, "x.db"), "--grace", "14d", "--heartbeat-interval", "90m",
		"--license-cache", "0", "--log-format", "json"}, func(k string) string {
		if k == serverapp.EnvAdminKey {
			return adminSecret
		}
		return ""
	}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Grace != 336*time.Hour || o.HeartbeatInterval != 90*time.Minute || o.LicenseCache != 0 ||
		o.SecretKeyFile != filepath.Join(dir, "x.db.secret") || string(o.AdminKey) != adminSecret {
		t.Fatalf("parsed: %+v", o)
	}
	// On PostgreSQL the licence cache is off unless asked, and then short.
	pg := []string{"--db", "postgres://lk@db.internal/lk", "--secret-key-file", filepath.Join(dir, "lk.secret")}
	if o, err = serverapp.Parse(pg, none, &bytes.Buffer{}); err != nil || o.LicenseCache != 0 || o.SecretKeyFile != pg[3] {
		t.Fatalf("PostgreSQL defaults: %+v %v", o, err)
	}
	if o, err = serverapp.Parse(append(pg, "--license-cache", "5s"), none, &bytes.Buffer{}); err != nil || o.LicenseCache != 5*time.Second {
		t.Fatalf("PostgreSQL, --license-cache 5s: %+v %v", o, err)
	}
}

// A PostgreSQL that refuses the connection is a failure to start (exit
// 1) that names the database, not its password, and makes no file.
func TestPostgresRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nobody listens on
	dir := t.TempDir()
	key := filepath.Join(dir, "lk.secret")
	var stderr bytes.Buffer
	args := []string{"--addr", "127.0.0.1:0", "--db", "postgres://lk:hunter2@" + addr + "/lk?connect_timeout=5", "--secret-key-file", key}
	if code := serverapp.Main(context.Background(), args, func(string) string { return "" }, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	for _, want := range []string{"cannot start", "postgres://lk:xxxxx@" + addr + "/lk", "connection refused"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "hunter2") || strings.Contains(stderr.String(), "panic") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files made: %v", ents)
	}
}
