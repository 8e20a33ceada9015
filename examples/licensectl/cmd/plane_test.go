package cmd_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

// adminKey is the bootstrap super_admin secret of the test control plane.
const adminKey = "lk_test_bootstrap_0123456789abcdef"

// plane is the real control plane on loopback over a SQLite file.
type plane struct {
	t      testing.TB
	db     string
	secret []byte
	store  *sqlite.Store
	srv    *controlplane.Server
	hs     *httptest.Server
}

// startPlane starts a control plane over a new database in t's temp dir.
func startPlane(t testing.TB) *plane {
	t.Helper()
	p := &plane{t: t, db: filepath.Join(t.TempDir(), "licensekit.db"), secret: make([]byte, 32)}
	for i := range p.secret {
		p.secret[i] = byte(i * 7)
	}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *plane) start() {
	p.t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, p.db)
	if err != nil {
		p.t.Fatalf("opening %s: %v", p.db, err)
	}
	srv, err := controlplane.New(ctx, controlplane.Config{Store: st, Issuer: "acme", SecretKey: p.secret, AdminKey: adminKey})
	if err != nil {
		st.Close()
		p.t.Fatalf("starting the control plane: %v", err)
	}
	p.store, p.srv, p.hs = st, srv, httptest.NewServer(srv)
}

// stop shuts the server down and closes the database; a second stop does nothing.
func (p *plane) stop() {
	if p.hs == nil {
		return
	}
	p.hs.Close()
	if err := p.srv.Close(); err != nil {
		p.t.Errorf("closing the server: %v", err)
	}
	if err := p.store.Close(); err != nil {
		p.t.Errorf("closing the store: %v", err)
	}
	p.hs = nil
}

// restart stops the server and starts a new one on the same database file.
func (p *plane) restart() {
	p.t.Helper()
	p.stop()
	p.start()
}

// env is the environment that points licensectl at this plane with key.
func (p *plane) env(key string) []string {
	return []string{"LICENSECTL_URL=" + p.hs.URL, "LICENSECTL_API_KEY=" + key}
}

// The masks that make real output repeatable. Ids, kids and secrets vary
// from run to run: each distinct value becomes a numbered placeholder in
// order of appearance, so equal values stay visibly equal. Times all become
// <TIME>: whether two of them fall in one second is luck. Placeholders are
// padded with dots to the width of what they hide, so columns stay aligned.
var masks = []struct {
	re       *regexp.Regexp
	name     string
	numbered bool
}{
	{regexp.MustCompile(`lk_[A-Za-z0-9_]+(…[A-Za-z0-9]*)?`), "SECRET", true},
	{regexp.MustCompile(`\b(lic|sub|key|req)_[A-Za-z0-9]+`), "", true},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`), "TIME", false},
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{17}… \(\d+ chars\)`), "TOKEN", true},
	{regexp.MustCompile(`[A-Za-z0-9_-]{43}`), "KID", true},
}

func mask(s string) string {
	for _, m := range masks {
		seen := map[string]string{}
		count := map[string]int{}
		s = m.re.ReplaceAllStringFunc(s, func(v string) string {
			if r, ok := seen[v]; ok {
				return r
			}
			name := m.name
			if name == "" {
				name = strings.ToUpper(v[:strings.IndexByte(v, '_')])
			}
			if m.numbered {
				count[name]++
				name += strconv.Itoa(count[name])
			}
			r := "<" + name + ">"
			if n := utf8.RuneCountInString(v) - len(r); n > 0 {
				r += strings.Repeat(".", n)
			}
			seen[v] = r
			return r
		})
	}
	return s
}

// golden compares masked output with testdata/name.golden; -update rewrites it.
func golden(t testing.TB, name, out string) {
	t.Helper()
	got := mask(out)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	wantB, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(wantB) {
		t.Fatalf("%s: table output differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", name, path, got, wantB)
	}
}
