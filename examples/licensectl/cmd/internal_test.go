package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelp walks the command tree: every command has a
// short description and examples, and its --help exits 0 on stdout.
func TestEveryCommandHasHelp(t *testing.T) {
	root := (&app{}).root()
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Short == "" && c != root {
			t.Errorf("%s has no short description", c.CommandPath())
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb}); code != ExitOK || !strings.Contains(out.String(), "Examples:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
		n++
		for _, sub := range c.Commands() {
			if sub.Name() != "help" {
				walk(sub)
			}
		}
	}
	walk(root)
	// Every command of the contract is there.
	for _, path := range []string{
		"licenses issue", "licenses list", "licenses show", "licenses revoke", "licenses suspend", "licenses restore",
		"licenses rebind", "licenses reset", "licenses renew", "licenses delete", "licenses download", "licenses validate",
		"licenses activate-offline", "machines list", "keys create", "keys list", "keys revoke", "signing-keys list",
		"signing-keys create", "signing-keys activate", "signing-keys retire", "audit list", "settings get", "settings set",
		"sweep", "verify", "completion bash", "completion zsh", "completion fish", "completion powershell",
	} {
		if c, rest, err := root.Find(strings.Fields(path)); err != nil || len(rest) != 0 || c.CommandPath() != "licensectl "+path {
			t.Errorf("no command %q", path)
		}
	}
	if n < 30 {
		t.Errorf("walked %d commands", n)
	}
}

func TestCompletion(t *testing.T) {
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"completion", "bash"}, Env{Stdout: &out}); code != ExitOK || !strings.Contains(out.String(), "licensectl") {
		t.Fatalf("completion bash: exit %d", code)
	}
	out.Reset()
	if code := Run(context.Background(), []string{"__complete", "licenses", "reset", "lic_x", "--slot", ""}, Env{Stdout: &out}); code != ExitOK {
		t.Fatalf("__complete: exit %d", code)
	}
	if got := out.String(); !strings.Contains(got, "primary\n") || !strings.Contains(got, "secondary\n") {
		t.Fatalf("completing --slot: %q", got)
	}
	out.Reset()
	_ = Run(context.Background(), []string{"__complete", "lic"}, Env{Stdout: &out})
	if !strings.Contains(out.String(), "licenses") {
		t.Fatalf("completing a command: %q", out.String())
	}
}

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&APIError{Status: 401, Code: "UNAUTHENTICATED"}, ExitAuth},
		{&APIError{Status: 403, Code: "FORBIDDEN"}, ExitAuth},
		{&APIError{Status: 404, Code: "NOT_FOUND"}, ExitNotFound},
		{&APIError{Status: 400, Code: "VALIDATION"}, ExitValidation},
		{&APIError{Status: 409, Code: "CONFLICT"}, ExitValidation},
		{&APIError{Status: 413, Code: "TOO_LARGE"}, ExitValidation},
		{&APIError{Status: 415, Code: "UNSUPPORTED_MEDIA_TYPE"}, ExitValidation},
		{&APIError{Status: 500, Code: "INTERNAL"}, ExitServer},
		{&APIError{Status: 503, Code: "UNAVAILABLE"}, ExitServer},
		{&APIError{Status: 429, Code: "RATE_LIMITED"}, ExitError},
		{&APIError{Status: 405, Code: "METHOD_NOT_ALLOWED"}, ExitError},
		{fmt.Errorf("wrapped: %w", &APIError{Status: 404}), ExitNotFound},
		{usagef("bad"), ExitValidation},
		{fmt.Errorf("%w: x", ErrInvalidToken), ExitValidation},
		{fmt.Errorf("%w: x", ErrAborted), ExitValidation},
		{fmt.Errorf("%w: x", ErrNoAPIKey), ExitAuth},
		{fmt.Errorf("%w: x", ErrNotAPI), ExitServer},
		{fmt.Errorf("%w: x", ErrConnection), ExitError},
		{errors.New("anything else"), ExitError},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute, "45s": 45 * time.Second,
	} {
		if got, err := parseDuration(s); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "forever", "-3d", "0d", "0s", "-1h", "1.5d", "d", "+3d", "3 d", "99999999999d", "110000d", "1w"} {
		if got, err := parseDuration(s); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", s, got)
		}
	}
}

func TestClean(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"plain", 10, "plain"},
		{"a\x1b[31mred", 20, "a?[31mred"},
		{"tab\tnew\nline", 20, "tab?new?line"},
		{"bad \xff utf8", 20, "bad ? utf8"},
		{"0123456789abcdefghijk", 10, "0123456789…"},
		{"ünïcödé", 3, "ünï…"},
	}
	for _, c := range cases {
		if got := clean(c.in, c.n); got != c.want {
			t.Errorf("clean(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	if got := cutToken("eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJhY21lIn0.c2lnbmF0dXJl"); got != "eyJhbGciOiJFZERTQSJ9… (53 chars)" {
		t.Errorf("cutToken = %q", got)
	}
	if got := cutToken(""); got != "-" {
		t.Errorf("cutToken of nothing = %q", got)
	}
}

// FuzzAnswer: no answer of a server makes the client panic, every failure
// has an exit code of the contract, and only a 2xx with JSON is a success.
func FuzzAnswer(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"licenses":[],"next_cursor":""}`))
	f.Add(404, "application/json", []byte(`{"error":{"code":"NOT_FOUND","message":"License not found"}}`))
	f.Add(200, "text/html", []byte(`<html></html>`))
	f.Add(500, "application/json; charset=utf-8", []byte(`{"error":{"code":"INTERNAL"}}`))
	f.Add(302, "", []byte(``))
	f.Add(403, "application/json", []byte(`{"error":null}`))
	f.Add(429, "application/json", []byte(`{"error":{"code":"RATE_LIMITED","message":"\u001b[2J"}}`))
	cl := &client{}
	cl.base, _ = parseBaseURL("http://127.0.0.1:8000")
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}, "Location": {string(body)}}}
		data, _, err := cl.answer(resp, body)
		if err == nil {
			if status < 200 || status > 299 || data == nil {
				t.Fatalf("status %d accepted", status)
			}
			return
		}
		code := ExitCode(err)
		if code < ExitError || code > ExitServer {
			t.Fatalf("exit code %d for %v", code, err)
		}
		if strings.ContainsRune(message(err), '\x1b') {
			t.Fatalf("an escape reached the message: %q", message(err))
		}
	})
}

// FuzzParseDuration: never a panic; what is accepted is positive.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "-3d", "forever", "1h30m", "0d", "9223372036854775807d", "1e3h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDuration(s); err == nil && d <= 0 {
			t.Fatalf("parseDuration(%q) = %v", s, d)
		}
	})
}

// FuzzKeyValues: never a panic; what is accepted is two pairs, each with a key.
func FuzzKeyValues(f *testing.F) {
	f.Add("env=prod", "a=")
	f.Add("=x", "k=v=w")
	f.Add("k=1", "k=2")
	f.Fuzz(func(t *testing.T, a, b string) {
		m, err := keyValues("metadata", []string{a, b})
		if err != nil {
			return
		}
		if len(m) != 2 {
			t.Fatalf("keyValues(%q, %q) = %v", a, b, m)
		}
		for k := range m {
			if k == "" {
				t.Fatalf("keyValues(%q, %q) accepted an empty key", a, b)
			}
		}
	})
}

// A kid that starts with '-' is an argument, not flags, where a kid is
// expected; elsewhere, and after "--", arguments are left as they are.
func TestProtectKIDs(t *testing.T) {
	kid := "-_1UgCs5lJSryZD6OK7D_Ze5mUEIC-tDbuj3PZtMF58"
	cases := []struct{ in, want []string }{
		{[]string{"signing-keys", "activate", kid}, []string{"signing-keys", "activate", "--", kid}},
		{[]string{"-o", "json", "signing-keys", "retire", kid, "--url", "x"}, []string{"-o", "json", "signing-keys", "retire", "--", kid, "--url", "x"}},
		{[]string{"signing-keys", "activate", "--", kid}, []string{"signing-keys", "activate", "--", kid}},
		{[]string{"signing-keys", "activate", "-o", "json"}, []string{"signing-keys", "activate", "-o", "json"}},
		{[]string{"licenses", "show", kid}, []string{"licenses", "show", kid}},
		{[]string{"signing-keys", "activate", "3q2-7wEyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, []string{"signing-keys", "activate", "3q2-7wEyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},
	}
	for _, c := range cases {
		if got := protectKIDs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("protectKIDs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
