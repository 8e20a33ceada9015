package cmd

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// checkDuration checks a duration flag as the control plane reads one: a
// whole number of days ("90d") or a Go duration ("36h", "1h30m"), more
// than zero. It returns the text to send.
func checkDuration(flag, s string) (string, error) {
	if _, err := parseDuration(s); err != nil {
		return "", usagef("--%s %q: want a positive duration such as 90d, 36h or 1h30m", flag, clean(s, 32))
	}
	return s, nil
}

// maxDays is the most days a time.Duration holds (about 292 years).
const maxDays = int64(math.MaxInt64 / int64(24*time.Hour))

func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days <= 0 || days > maxDays || n[0] == '+' {
			return 0, fmt.Errorf("bad number of days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("not positive")
	}
	return d, nil
}

// checkSince checks --since: a duration back from now, or an RFC 3339 time.
func checkSince(s string) (string, error) {
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return s, nil
	}
	if _, err := parseDuration(s); err == nil {
		return s, nil
	}
	return "", usagef("--since %q: want a duration back from now such as 24h or 7d, or a time such as 2026-01-31T00:00:00Z", clean(s, 40))
}

// keyValues reads repeated k=v flags into a map.
func keyValues(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %q: want key=value", flag, clean(kv, 40))
		}
		if _, dup := m[k]; dup {
			return nil, usagef("--%s: key %q given twice", flag, clean(k, 40))
		}
		m[k] = v
	}
	return m, nil
}

// checkID checks an id taken from the command line: 1 to 128 visible
// ASCII characters. What it names is the server's to say.
func checkID(name, s string) error {
	if s == "" || len(s) > 128 {
		return usagef("%s must be 1 to 128 characters", name)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return usagef("%s %q holds a space or a character no id has", name, clean(s, 40))
		}
	}
	return nil
}

// oneOf checks a flag that takes one of a few words.
func oneOf(flag, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("--%s %q: want %s", flag, clean(v, 32), strings.Join(allowed, ", "))
}

// maxInput bounds a file or standard input licensectl reads.
const maxInput = 1 << 20

// readInput reads a file, or standard input for "-", up to maxInput bytes.
func (a *app) readInput(flag, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = a.env.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--%s: %s", flag, clean(err.Error(), 200))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, usagef("--%s: %s", flag, clean(err.Error(), 200))
	}
	if len(data) > maxInput {
		return nil, usagef("--%s: over %d bytes", flag, maxInput)
	}
	return data, nil
}

// tokenArg reads --token: the token itself, or "-" for standard input.
func (a *app) tokenArg(tok string) (string, error) {
	if tok == "-" {
		data, err := a.readInput("token", "-")
		if err != nil {
			return "", err
		}
		tok = string(data)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", usagef("--token is empty")
	}
	return tok, nil
}
