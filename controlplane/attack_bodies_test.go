package controlplane_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// zeros is an endless body of no known length: sent chunked.
type endless struct{ sent, max int }

func (e *endless) Read(p []byte) (int, error) {
	if e.sent >= e.max {
		return 0, io.EOF
	}
	n := min(len(p), e.max-e.sent)
	for i := range n {
		p[i] = ' '
	}
	if e.sent == 0 {
		p[0] = '{'
	}
	e.sent += n
	return n, nil
}

// Hostile bodies and queries over a real loopback connection: 20 MB,
// chunked without length, garbage, wrong types, absurd values. Each is a
// clear error in the envelope, never a 500, and none changes anything.
func TestAttackHostileBodies(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	before := h.snapshot()

	caps := make([]string, 10000)
	for i := range caps {
		caps[i] = "cap:" + strings.Repeat("x", i%50)
	}
	manyCaps, _ := json.Marshal(map[string]any{"tenant_id": "ten_a", "capabilities": caps})
	bigMeta := map[string]string{}
	for i := range 64 {
		bigMeta[string(rune('a'+i%26))+strings.Repeat("k", i)] = strings.Repeat("é", 500)
	}
	bigMetaBody, _ := json.Marshal(map[string]any{"tenant_id": "ten_a", "metadata": bigMeta})
	type req struct {
		method, path, ctype string
		body                io.Reader
		want                int
	}
	admin := "/licenses"
	dev := "/licenses/" + l.ID + "/heartbeat"
	cases := []req{
		{"POST", admin, "application/json", strings.NewReader(strings.Repeat("a", 20<<20)), 413},
		{"POST", admin, "application/json", &endless{max: 20 << 20}, 413},
		{"POST", dev, "application/json", &endless{max: 1 << 20}, 413},
		{"POST", admin, "application/json", &endless{max: 100}, 400},
		{"POST", admin, "application/json", strings.NewReader("\x00\xff\xfe garbage"), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a",`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","TENANT_ID":"ten_b"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","max_machines":"3"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","max_machines":-1}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","max_machines":1.5}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","max_machines":99999999999999999999}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","ttl":"9223372036854775807d"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","ttl":"2562047h1m"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","ttl":"-0d"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","ttl":"1e3d"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","ttl":null,"plan":null,"capabilities":{}}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"../../etc/passwd"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a\u0000"}`), 400},
		{"POST", admin, "application/json", strings.NewReader(string(manyCaps)), 400},
		{"POST", admin, "application/json", strings.NewReader(string(bigMetaBody)), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","metadata":{"k":"` + strings.Repeat("[", 100000) + `"}}`), 400},
		{"POST", admin, "application/json", strings.NewReader(`{"tenant_id":"ten_a","metadata":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`), 400},
		{"POST", admin, "application/x-www-form-urlencoded", strings.NewReader(`tenant_id=ten_a`), 415},
		{"POST", admin, "multipart/form-data; boundary=x", strings.NewReader("--x--"), 415},
		{"POST", admin, "application/json; charset=utf-16", strings.NewReader(`{"tenant_id":"ten_a","plan":"nope"}`), 400},
		{"POST", admin, "application/jsonx", strings.NewReader(`{"tenant_id":"ten_a"}`), 415},
		{"POST", dev, "text/json", strings.NewReader(`{"token":"x","fingerprint":"y"}`), 415},
		{"POST", dev, "application/json", strings.NewReader(`{"token":1,"fingerprint":"y"}`), 400},
		{"POST", dev, "application/json", strings.NewReader(`{"token":"` + l.Primary + `","fingerprint":"fp-A","Token":"x"}`), 400},
		{"POST", dev, "application/json", strings.NewReader(`null`), 400},
		{"POST", "/licenses/" + l.ID + "/revoke", "application/json", strings.NewReader(`{"force":true}`), 400},
		{"POST", "/licenses/" + l.ID + "/revoke", "application/json", strings.NewReader(``), 400},
		{"PUT", "/licenses/" + l.ID + "/directives", "application/json", strings.NewReader(`{"grace":"1s"}`), 400},
		{"PUT", "/licenses/" + l.ID + "/directives", "application/json", strings.NewReader(`{"grace":12}`), 400},
		{"PUT", "/licenses/" + l.ID + "/directives", "application/json", strings.NewReader(`{"heartbeat_interval":"40d"}`), 400},
		{"PUT", "/settings", "application/json", strings.NewReader(`{"offline_lease_ttl":"99999999d"}`), 400},
		{"POST", "/keys", "application/json", strings.NewReader(`{"name":"` + strings.Repeat("n", 129) + `"}`), 400},
		{"POST", "/keys", "application/json", strings.NewReader(`{"name":"x","scopes":"admin:keys root"}`), 400},
		{"POST", "/keys", "application/json", strings.NewReader(`{"name":"x","tenant_id":"*"}`), 400},
	}
	for _, q := range []string{
		"/licenses?limit=0", "/licenses?limit=-1", "/licenses?limit=1001", "/licenses?limit=1e3", "/licenses?limit=99999999999999999999",
		"/licenses?expiring_within=1000000d", "/licenses?expiring_within=-1d", "/licenses?expiring_within=soon",
		"/licenses?q=%25", "/licenses?q=lic_%27--", "/licenses?tenant_id=%27%20OR%201%3D1", "/licenses?status=ACTIVE",
		"/licenses?cursor=%00", "/licenses?cursor=" + strings.Repeat("c", 600),
		"/machines?cursor=notacursor", "/machines?cursor=...", "/machines?cursor=%FF.%FF", "/machines?limit=5000",
		"/audit?cursor=-5", "/audit?cursor=abc", "/audit?cursor=99999999999999999999", "/audit?since=1000000d", "/audit?since=-1h",
		"/audit?actor=%00", "/keys?tenant_id=%2A", "/keys?cursor=%0a", "/licenses/" + l.ID + "/keyfile?slot=all",
	} {
		cases = append(cases, req{"GET", q, "", nil, 400})
	}
	for _, c := range cases {
		r, err := http.NewRequest(c.method, ts.URL+c.path, c.body)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.body.(*endless); ok {
			r.ContentLength = -1 // chunked, no length
		}
		if c.ctype != "" {
			r.Header.Set("Content-Type", c.ctype)
		}
		r.Header.Set("Authorization", "Bearer "+adminSecret)
		res, err := ts.Client().Do(r)
		if err != nil {
			t.Errorf("%s %.60s: %v", c.method, c.path, err)
			continue
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var env envelopeJSON
		if res.StatusCode != c.want || json.Unmarshal(data, &env) != nil || env.Error.Code == "" || env.Error.Message == "" {
			t.Errorf("%s %.80s: %d %.200s, want %d with an envelope", c.method, c.path, res.StatusCode, data, c.want)
		}
	}
	h.clock.Add(time.Second) // the same state a second later: nothing ran behind
	if after := h.snapshot(); after != before {
		t.Fatalf("hostile requests changed the state")
	}
	// Unicode in metadata is kept as sent.
	meta := map[string]any{"name": "Zürich 東京 🚀", "rtl": "\u202eabc", "empty": ""}
	got := h.issue("ten_a", map[string]any{"metadata": meta}).raw["metadata"].(map[string]any)
	for k, v := range meta {
		if got[k] != v {
			t.Errorf("metadata %s: %q, want %q", k, got[k], v)
		}
	}
}

type envelopeJSON struct {
	Error struct{ Code, Message string } `json:"error"`
}
