package cmd_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBadUsage: every mistake on the command line is exit 4 with the
// usage, and changes nothing on the server.
func TestBadUsage(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"unknown flag", []string{"licenses", "issue", "--tenant-id", "ten_a", "--bogus"}, "unknown flag: --bogus"},
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"unknown subcommand", []string{"licenses", "bogus"}, `unknown command "bogus"`},
		{"ttl forever", []string{"licenses", "issue", "--tenant-id", "ten_a", "--ttl", "forever"}, `--ttl "forever"`},
		{"ttl negative", []string{"licenses", "issue", "--tenant-id", "ten_a", "--ttl", "-3d"}, `--ttl "-3d"`},
		{"ttl zero", []string{"licenses", "issue", "--tenant-id", "ten_a", "--ttl", "0d"}, `--ttl "0d"`},
		{"ttl fraction of days", []string{"licenses", "issue", "--tenant-id", "ten_a", "--ttl", "1.5d"}, `--ttl "1.5d"`},
		{"renew ttl forever", []string{"licenses", "renew", "lic_x", "--ttl", "forever"}, `--ttl "forever"`},
		{"expiring-within negative", []string{"licenses", "list", "--expiring-within", "-3d"}, "--expiring-within"},
		{"since nonsense", []string{"audit", "list", "--since", "yesterday"}, "--since"},
		{"metadata without =", []string{"licenses", "issue", "--tenant-id", "ten_a", "--metadata", "env"}, "key=value"},
		{"max-machines 0", []string{"licenses", "issue", "--tenant-id", "ten_a", "--max-machines", "0"}, "--max-machines"},
		{"max-machines not a number", []string{"licenses", "issue", "--tenant-id", "ten_a", "--max-machines", "two"}, "--max-machines"},
		{"missing tenant-id", []string{"licenses", "issue"}, `required flag(s) "tenant-id" not set`},
		{"missing key name", []string{"keys", "create", "--tenant-id", "ten_a"}, `required flag(s) "name" not set`},
		{"missing keys list tenant", []string{"keys", "list"}, `required flag(s) "tenant-id" not set`},
		{"missing token", []string{"licenses", "validate"}, `required flag(s) "token" not set`},
		{"missing fingerprint", []string{"licenses", "rebind", "lic_x"}, `required flag(s) "fingerprint" not set`},
		{"missing slot", []string{"licenses", "reset", "lic_x"}, `required flag(s) "slot" not set`},
		{"bad slot", []string{"licenses", "reset", "lic_x", "--slot", "tertiary"}, "--slot"},
		{"bad download slot", []string{"licenses", "download", "lic_x", "--slot", "all"}, "--slot"},
		{"missing licence id", []string{"licenses", "show"}, "accepts 1 arg(s), received 0"},
		{"two licence ids", []string{"licenses", "revoke", "lic_a", "lic_b"}, "accepts 1 arg(s), received 2"},
		{"empty licence id", []string{"licenses", "show", ""}, "LICENSE_ID"},
		{"licence id with a space", []string{"licenses", "show", "lic_a b"}, "LICENSE_ID"},
		{"bad status", []string{"licenses", "list", "--status", "alive"}, "--status"},
		{"bad machine state", []string{"machines", "list", "--state", "zombie"}, "--state"},
		{"bad limit", []string{"licenses", "list", "--limit", "5000"}, "--limit"},
		{"bad alg", []string{"signing-keys", "create", "--alg", "HS256"}, "--alg"},
		{"bad output", []string{"licenses", "list", "-o", "yaml"}, `--output "yaml"`},
		{"bad timeout", []string{"licenses", "list", "--timeout", "0s"}, "--timeout"},
		{"bad url", []string{"licenses", "list", "--url", "ftp://example.com"}, "--url"},
		{"verify without keys", []string{"verify", "--token", "x"}, `required flag(s) "keys" not set`},
		{"verify without a token or file", []string{"verify", "--keys", "jwks.json"}, "key-file token"},
		{"verify with both", []string{"verify", "--keys", "jwks.json", "--token", "x", "--key-file", "y"}, "none of the others"},
		{"verify keys missing", []string{"verify", "--keys", "/nonexistent/jwks.json", "--token", "x"}, "--keys"},
		{"activate-offline without request", []string{"licenses", "activate-offline", "lic_x"}, `required flag(s) "request" not set`},
		{"settings plan-ttl unknown plan", []string{"settings", "set", "--plan-ttl", "weekly=7d"}, "--plan-ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wantErr(t, ctl(t, admin, "", c.args...), 4, strings.Join(c.args, " "), c.says)
			if !strings.Contains(r.stderr, "Usage:") {
				t.Errorf("a usage error should print the usage:\n%s", r)
			}
			if r.stdout != "" {
				t.Errorf("a usage error printed data:\n%s", r)
			}
		})
	}
	// Nothing reached the store.
	r := want(t, ctl(t, admin, "", "licenses", "list", "-o", "json"), 0, "list after the bad calls")
	if l := decode[licenceList](t, r); len(l.Licenses) != 0 {
		t.Fatalf("bad usage issued licences: %+v", l)
	}
	// Help is not an error.
	for _, args := range [][]string{{"--help"}, {"licenses", "issue", "--help"}, {"licenses"}, {"help", "keys", "create"}} {
		r := want(t, ctl(t, nil, "", args...), 0, strings.Join(args, " "))
		if !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v: help goes to stdout:\n%s", args, r)
		}
	}
}

// secretKey is an API key the tests check is never echoed.
const secretKey = "lk_key_SUPERSECRET_neverecho_0123456789"

// TestBadServers: answers that are not the control plane's are exit 5, a
// server that hangs or is not there is exit 1, and the API key appears in
// no message.
func TestBadServers(t *testing.T) {
	serve := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	html := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
	})
	html404 := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		_, _ = w.Write([]byte("<html>Not Found</html>"))
	})
	garbage := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\"licenses\": [\x1b[31mgarbage"))
	})
	wrongShape := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items": []}`))
	})
	internal := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"error":{"code":"INTERNAL","message":"Internal error"}}`))
	})
	badGateway := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("bad gateway"))
	})
	redirect := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/licenses", http.StatusFound)
	})
	limited := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		_, _ = w.Write([]byte(`{"error":{"code":"RATE_LIMITED","message":"Too many requests"}}`))
	})
	stop := make(chan struct{})
	hang := serve(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(stop) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	cases := []struct {
		name, url string
		args      []string
		code      int
		says      string
	}{
		{"HTML page", html, []string{"licenses", "list"}, 5, "text/html"},
		{"HTML 404 of a proxy", html404, []string{"licenses", "show", "lic_x"}, 5, "is --url the control plane?"},
		{"garbage JSON", garbage, []string{"licenses", "list"}, 5, "not an answer of the control plane"},
		{"JSON of another shape", wrongShape, []string{"licenses", "list"}, 5, `no list "licenses"`},
		{"wrong shape for one object", wrongShape, []string{"licenses", "show", "lic_x"}, 5, `no "license"`},
		{"internal error", internal, []string{"licenses", "list"}, 5, "INTERNAL"},
		{"bad gateway", badGateway, []string{"licenses", "list"}, 5, "502"},
		{"redirect", redirect, []string{"licenses", "list"}, 5, "redirect"},
		{"rate limited", limited, []string{"licenses", "list"}, 1, "retry after 7 s"},
		{"connection refused", refused, []string{"licenses", "list"}, 1, "cannot reach the control plane"},
		{"hanging server", hang, []string{"licenses", "list", "--timeout", "300ms"}, 1, "no answer from"},
		{"hanging server, issue", hang, []string{"licenses", "issue", "--tenant-id", "ten_a", "--timeout", "300ms"}, 1, "within 300ms"},
		{"hanging jwks", hang, []string{"signing-keys", "jwks", "--timeout", "300ms"}, 1, "no answer from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := wantErr(t, ctl(t, []string{"LICENSECTL_URL=" + c.url, "LICENSECTL_API_KEY=" + secretKey}, "", c.args...), c.code, c.name, c.says)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s", d)
			}
			if strings.Contains(r.stdout+r.stderr, "SUPERSECRET") {
				t.Fatalf("the API key was echoed:\n%s", r)
			}
			if strings.ContainsRune(r.stderr, '\x1b') {
				t.Fatalf("an escape sequence from the server reached the terminal:\n%q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("a failure printed data:\n%s", r)
			}
		})
	}

	// The key given as a flag is not echoed either, nor one that cannot be sent.
	r := wantErr(t, ctl(t, nil, "", "licenses", "list", "--url", refused, "--api-key", secretKey), 1, "refused, key flag", "cannot reach")
	if strings.Contains(r.stderr, "SUPERSECRET") {
		t.Fatalf("the --api-key was echoed:\n%s", r)
	}
	r = wantErr(t, ctl(t, nil, "", "licenses", "list", "--url", html, "--api-key", "lk_SUPERSECRET with space"), 4, "a key that cannot be sent", "API key")
	if strings.Contains(r.stderr, "SUPERSECRET") {
		t.Fatalf("the --api-key was echoed:\n%s", r)
	}
	r = wantErr(t, ctl(t, nil, "", "licenses", "list", "--url", "http://"+secretKey+"@127.0.0.1:1"), 4, "a key in the URL", "--url")
	if strings.Contains(r.stderr, "SUPERSECRET") {
		t.Fatalf("a secret in --url was echoed:\n%s", r)
	}
}
