package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
)

// FuzzParseURL: any --db value is parsed or refused with ErrOpen, never a
// panic, and a refusal never repeats the password of a URL.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"", "postgres://u:pw@db/x", "postgresql://db:5432/x?sslmode=disable&pool_max_conns=3",
		"postgres://u:pw@db:port/x", "postgres://[::1", "host=db password=pw", "postgres://u:p%zz@db", "mysql://x",
		"postgres://u:pw@db/x?sslmode=nope", "postgres://u:pw@db/x?connect_timeout=-1", "postgres://u:pw@/x?host=/tmp", "postgres://u:hunter2pw@db:x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, err := parseURL(raw)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrOpen) {
			t.Fatalf("parseURL(%q): %v, want ErrOpen", raw, err)
		}
		if strings.HasPrefix(raw, "postgres://u:hunter2pw@") && strings.Contains(err.Error(), "hunter2pw") {
			t.Fatalf("parseURL(%q): the error repeats the password: %v", raw, err)
		}
	})
}

// FuzzCursors: a cursor the store handed out reads back as the item it
// names; anything else is ErrInvalid, never a panic.
func FuzzCursors(f *testing.F) {
	for _, s := range []string{"", ".", "bGlj.ZnA", "bGlj.", "%%%", "-1", "99999999999999999999", "AA.AA", "_w.-A"} {
		f.Add(s, "lic_a", "fp_1")
	}
	f.Fuzz(func(t *testing.T, c, lid, fp string) {
		if l, p, err := parseMachineCursor(c); err != nil && !errors.Is(err, controlplane.ErrInvalid) {
			t.Fatalf("parseMachineCursor(%q): %v", c, err)
		} else if err == nil && (!storable(l) || !storable(p)) {
			t.Fatalf("parseMachineCursor(%q) = %q, %q: not storable", c, l, p)
		}
		if n, err := parseEventCursor(c); err != nil && !errors.Is(err, controlplane.ErrInvalid) || err == nil && n <= 0 {
			t.Fatalf("parseEventCursor(%q) = %d, %v", c, n, err)
		}
		if _, err := idCursor(c); err != nil && !errors.Is(err, controlplane.ErrInvalid) {
			t.Fatalf("idCursor(%q): %v", c, err)
		}
		if !storable(lid) || !storable(fp) {
			return
		}
		l, p, err := parseMachineCursor(machineCursor(lid, fp))
		if err != nil || l != lid || p != fp {
			t.Fatalf("cursor of (%q, %q) reads back as (%q, %q), %v", lid, fp, l, p, err)
		}
	})
}
