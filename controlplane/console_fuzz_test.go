package controlplane

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzConsoleForms feeds the console's form readers anything: they never
// panic, metadata they accept has no empty key, and a sign-in redirect
// never leaves the console.
func FuzzConsoleForms(f *testing.F) {
	for _, s := range []string{"", "env=prod\nowner=ops", "a=b\na=c", "=x", "novalue", "k = v = w\r\n\n", "/licensing/keys?x=1",
		"//evil.example", "/licensing/../x", "https://evil.example/licensing/", "/licensing/\\x", "/licensing/%2e%2e/x", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := parseMetadata(s); err == nil {
			for k := range m {
				if k == "" || strings.ContainsAny(k, "\n=") {
					t.Fatalf("parseMetadata(%q) gave the key %q", s, k)
				}
			}
		}
		for _, c := range splitCapabilities(s) {
			if c == "" || strings.ContainsAny(c, " ,\n\t\r") {
				t.Fatalf("splitCapabilities(%q) gave %q", s, c)
			}
		}
		next := safeNext(s)
		u, err := url.Parse(next)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(next, consolePrefix+"/") || strings.HasPrefix(next, "//") {
			t.Fatalf("safeNext(%q) = %q leaves the console", s, next)
		}
		_ = readLicenseForm(url.Values{"metadata": {s}, "audience": {s}})
		_ = when(s, time.Unix(0, 0))
	})
}

func TestRelativeTimes(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		-10 * time.Second: "just now", 10 * time.Second: "in a few seconds", -3 * time.Minute: "3 min ago",
		-time.Hour: "60 min ago", -3 * time.Hour: "3 hours ago", 36 * time.Hour: "in 36 hours", -72 * time.Hour: "3 days ago",
		-24 * time.Hour: "24 hours ago", 90 * day: "in 3 months", 365 * day: "in 12 months", -3 * 365 * day: "3 years ago",
	} {
		if got := relative(now.Add(d), now); got != want {
			t.Errorf("relative(now%+v) = %q, want %q", d, got, want)
		}
	}
	m := when("2026-03-01T11:57:00Z", now)
	if m.Rel != "3 min ago" || m.Exact != "2026-03-01 11:57:00 UTC" || m.ISO != "2026-03-01T11:57:00Z" || !m.Past {
		t.Errorf("when: %+v", m)
	}
	if (when("not a time", now) != moment{}) || (when("", now) != moment{}) {
		t.Error("an unreadable time is not the zero moment")
	}
}
