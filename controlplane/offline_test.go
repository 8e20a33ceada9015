package controlplane_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
)

// offlineReq is an offline activation request file as the product writes it.
func offlineReq(licenseID, token, fp, nonce string, created time.Time) map[string]any {
	return map[string]any{"format": "licensekit.offline-request/v1", "license_id": licenseID, "token": token,
		"fingerprint": fp, "nonce": nonce, "created_at": created.UTC().Format(time.RFC3339)}
}

// offlineAnswer is a parsed response file and the claims of its lease.
type offlineAnswer struct {
	Format    string `json:"format"`
	LicenseID string `json:"license_id"`
	Lease     string `json:"lease"`
	claims    map[string]any
}

// offlineOK posts a request that must succeed, checks the answer is the
// canonical response file, and verifies its lease.
func (h *harness) offlineOK(id string, req any) offlineAnswer {
	h.t.Helper()
	rec := h.do("POST", "/licenses/"+id+"/offline-activation", adminSecret, req)
	if rec.Code != 200 {
		h.t.Fatalf("offline activation: %d %s", rec.Code, rec.Body.String())
	}
	var a offlineAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		h.t.Fatalf("response is not JSON: %v", err)
	}
	canon := `{"format":"licensekit.offline-response/v1","license_id":"` + a.LicenseID + `","lease":"` + a.Lease + `"}` + "\n"
	if rec.Body.String() != canon || a.LicenseID != id {
		h.t.Fatalf("response is not the canonical file for %s:\n%q\nwant\n%q", id, rec.Body.String(), canon)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("Content-Type %q", ct)
	}
	if _, err := h.verifier().VerifyLease(a.Lease); err != nil {
		h.t.Fatalf("the offline lease does not verify: %v", err)
	}
	a.claims = payload(h.t, a.Lease)
	return a
}

// payload decodes a JWS payload (after the caller verified it).
func payload(t testing.TB, jws string) map[string]any {
	t.Helper()
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", jws)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func unix(v any) time.Time { f, _ := v.(float64); return time.Unix(int64(f), 0).UTC() }

func TestOfflineActivation(t *testing.T) {
	h := newHarness(t)
	h.must(200, "PUT", "/settings", adminSecret, map[string]any{"offline_lease_ttl": "30d"})
	l := h.issue("ten_a", nil) // yearly: the licence outlives the 30-day offline lease
	short := h.issue("ten_a", map[string]any{"ttl": "10d"})
	h.clock.Add(time.Hour)
	now := h.clock.Now()

	a := h.offlineOK(l.ID, offlineReq(l.ID, l.Primary, "fp1.air", "NONCE0000000000000000000001", now.Add(-24*time.Hour)))
	c := a.claims
	if c["sub"] != l.ID || c["fpr"] != "fp1.air" || c["nonce"] != "NONCE0000000000000000000001" || c["offline"] != true || c["status"] != "active" {
		t.Fatalf("lease claims %v", c)
	}
	if got := unix(c["iat"]); !got.Equal(now.Truncate(time.Second)) {
		t.Fatalf("iat %v, want server time %v", got, now)
	}
	if got, want := unix(c["exp"]), now.Truncate(time.Second).Add(30*24*time.Hour); !got.Equal(want) {
		t.Fatalf("exp %v, want now + the offline lease TTL %v", got, want)
	}
	b := h.offlineOK(short.ID, offlineReq(short.ID, short.Secondary, "fp1.air", "n2", now))
	licExp, _ := time.Parse(time.RFC3339, short.raw["expires_at"].(string))
	if got := unix(b.claims["exp"]); !got.Equal(licExp) {
		t.Fatalf("exp %v, want the licence's exp %v", got, licExp)
	}

	// The binding is marked offline and the call audited as the admin's.
	got := h.must(200, "GET", "/licenses/"+l.ID, adminSecret, nil)["license"].(map[string]any)
	ms := got["machines"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["offline"] != true || ms[0].(map[string]any)["state"] != "alive" {
		t.Fatalf("machines %v", ms)
	}
	ev := h.must(200, "GET", "/audit?action=license.offline_activate&target="+l.ID, adminSecret, nil)["events"].([]any)
	if len(ev) != 1 || ev[0].(map[string]any)["actor"] != "key_bootstrap" {
		t.Fatalf("audit %v", ev)
	}

	// The same request again: the same binding, a fresh response with the
	// same nonce.
	h.clock.Add(time.Minute)
	again := h.offlineOK(l.ID, offlineReq(l.ID, l.Primary, "fp1.air", "NONCE0000000000000000000001", now.Add(-24*time.Hour)))
	if again.claims["nonce"] != "NONCE0000000000000000000001" || again.claims["jti"] == c["jti"] || !unix(again.claims["iat"]).After(unix(c["iat"])) {
		t.Fatalf("again: %v, first %v", again.claims, c)
	}
	if n := len(h.must(200, "GET", "/licenses/"+l.ID, adminSecret, nil)["license"].(map[string]any)["machines"].([]any)); n != 1 {
		t.Fatalf("%d bindings after the same request twice", n)
	}

	// The machine never beats, yet it stays alive until its lease ends, and
	// another machine finds the seat taken for as long.
	h.clock.Add(20 * 24 * time.Hour)
	m := h.must(200, "GET", "/machines?license_id="+l.ID, adminSecret, nil)["machines"].([]any)[0].(map[string]any)
	if m["state"] != "alive" {
		t.Fatalf("offline machine after 20 days: %v", m)
	}
	if rec := h.do("POST", "/licenses/"+l.ID+"/offline-activation", adminSecret, offlineReq(l.ID, l.Primary, "fp1.other", "n3", h.clock.Now())); rec.Code != 409 {
		t.Fatalf("a second machine on a full licence: %d %s", rec.Code, rec.Body.String())
	}
}

// TestOfflineSeatHeld: a machine bound offline that later comes online
// and releases its binding keeps its seat until the offline lease it may
// still hold runs out.
func TestOfflineSeatHeld(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	a := h.offlineOK(l.ID, offlineReq(l.ID, l.Primary, "fp-A", "n1", h.clock.Now()))
	offExp := unix(a.claims["exp"])
	h.clock.Add(time.Hour)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatalf("the offline machine online: %v", err)
	}
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	if err := h.deactivate(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	m := h.must(200, "GET", "/machines?license_id="+l.ID, adminSecret, nil)["machines"].([]any)[0].(map[string]any)
	if until, _ := time.Parse(time.RFC3339, m["lease_expires_at"].(string)); !until.Equal(offExp) {
		t.Fatalf("seat held until %v, want the offline lease's exp %v", until, offExp)
	}
	if _, err := h.activate(l, l.Primary, "fp-B"); err == nil {
		t.Fatal("another machine took the seat an offline lease still holds")
	}
}

// TestOfflineBadInput: every refused request changes nothing — no
// binding, no audit event — and is answered with its status.
func TestOfflineBadInput(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	other := h.issue("ten_a", nil)
	full := h.issue("ten_a", map[string]any{"fingerprint": "fp-taken"})
	revoked := h.issue("ten_a", nil)
	h.must(200, "POST", "/licenses/"+revoked.ID+"/revoke", adminSecret, nil)
	suspended := h.issue("ten_a", nil)
	h.must(200, "POST", "/licenses/"+suspended.ID+"/suspend", adminSecret, nil)
	deleted := h.issue("ten_a", nil)
	h.must(200, "DELETE", "/licenses/"+deleted.ID, adminSecret, nil)
	reset := h.issue("ten_a", nil)
	h.must(200, "POST", "/licenses/"+reset.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	now := h.clock.Now()
	good := func(x lic) map[string]any { return offlineReq(x.ID, x.Primary, "fp-new", "n1", now) }
	with := func(x lic, k string, v any) map[string]any {
		m := good(x)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	goodJSON, _ := json.Marshal(good(l))
	cases := []struct {
		name string
		id   string
		body any
		ct   string
		want int
	}{
		{"garbage", l.ID, "not json", "", 400},
		{"an array", l.ID, `[1]`, "", 400},
		{"trailing text", l.ID, string(goodJSON) + "x", "", 400},
		{"unknown member", l.ID, with(l, "extra", "x"), "", 400},
		{"duplicate member", l.ID, strings.Replace(string(goodJSON), `{`, `{"nonce":"n0",`, 1), "", 400},
		{"no nonce", l.ID, with(l, "nonce", nil), "", 400},
		{"no created_at", l.ID, with(l, "created_at", nil), "", 400},
		{"a number", l.ID, with(l, "nonce", 7), "", 400},
		{"wrong format", l.ID, with(l, "format", "licensekit.offline-request/v2"), "", 400},
		{"a key file", l.ID, with(l, "format", "licensekit.keyfile/v1"), "", 400},
		{"bad created_at", l.ID, with(l, "created_at", "yesterday"), "", 400},
		{"long nonce", l.ID, with(l, "nonce", strings.Repeat("n", 65)), "", 400},
		{"empty fingerprint", l.ID, with(l, "fingerprint", ""), "", 400},
		{"license_id not the path's", l.ID, with(l, "license_id", other.ID), "", 400},
		{"a token for another licence", l.ID, with(l, "token", other.Primary), "", 400},
		{"a token that is not one", l.ID, with(l, "token", "eyJ.x.y"), "", 400},
		{"an old created_at", l.ID, with(l, "created_at", now.Add(-31*24*time.Hour).Format(time.RFC3339)), "", 400},
		{"a created_at in the future", l.ID, with(l, "created_at", now.Add(2*time.Hour).Format(time.RFC3339)), "", 400},
		{"a reset slot's old token", reset.ID, good(reset), "", 400},
		{"a revoked licence", revoked.ID, good(revoked), "", 403},
		{"a suspended licence", suspended.ID, good(suspended), "", 403},
		{"a deleted licence", deleted.ID, good(deleted), "", 404},
		{"a full licence", full.ID, good(full), "", 409},
		{"unknown licence", "lic_unknown", with(l, "license_id", "lic_unknown"), "", 404},
		{"wrong content type", l.ID, string(goodJSON), "text/plain", 415},
		{"too large", l.ID, `{"format":"` + strings.Repeat("x", 70<<10) + `"}`, "", 413},
	}
	type snap struct {
		events   int
		machines string
	}
	state := func() snap {
		var b strings.Builder
		for _, x := range []lic{l, other, full, revoked, suspended, deleted, reset} {
			got, err := h.store.GetLicense(context.Background(), x.ID)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(got.Machines)
			b.Write(data)
		}
		return snap{h.events(), b.String()}
	}
	before := state()
	for _, c := range cases {
		var rec *httptest.ResponseRecorder
		if c.ct != "" {
			rec = h.do("POST", "/licenses/"+c.id+"/offline-activation", adminSecret, c.body, "Content-Type", c.ct)
		} else {
			rec = h.do("POST", "/licenses/"+c.id+"/offline-activation", adminSecret, c.body)
		}
		if rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body.String(), c.want)
			continue
		}
		code := errorCode(t, rec)
		if c.name == "a reset slot's old token" && code != "KEY_REPLACED" {
			t.Errorf("%s: code %s, want KEY_REPLACED", c.name, code)
		}
		if after := state(); after != before {
			t.Errorf("%s changed something: %+v, was %+v", c.name, after, before)
		}
	}
	// The same request, right, is answered: the refusals were for cause.
	h.offlineOK(l.ID, good(l))
}

// FuzzOfflineRequest posts arbitrary request files: never a panic, never
// a 5xx, the envelope on failure, and on success the canonical response
// for the one licence the fuzzer may bind.
func FuzzOfflineRequest(f *testing.F) {
	h := newHarness(f)
	l := h.issue("ten_a", nil) // one seat: the store stays small however long it runs
	good, _ := json.Marshal(offlineReq(l.ID, l.Primary, "fp1.fuzz", "NONCE", h.clock.Now()))
	for _, s := range []string{string(good), `{}`, `[]`, `{"format":1}`, `{"nonce":"a","nonce":"b"}`, "\x00",
		strings.Replace(string(good), `"fp1.fuzz"`, `"fp1.\u0000"`, 1), strings.Replace(string(good), `Z"`, `+25:00"`, 1),
		string(good) + " ", string(good[:len(good)-1])} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/licenses/"+l.ID+"/offline-activation", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body.String())
		case rec.Code == 200:
			var a offlineAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || a.LicenseID != l.ID ||
				rec.Body.String() != `{"format":"licensekit.offline-response/v1","license_id":"`+l.ID+`","lease":"`+a.Lease+`"}`+"\n" {
				t.Fatalf("%q answered %q", body, rec.Body.String())
			}
		default:
			errorCode(t, rec)
		}
	})
}

// After a rotation, an offline response is signed by the key that signed
// the licence token presented, while that key is published: an air-gapped
// product built with the old key alone imports it. A token of the new key
// gets a response of the new key; once the old key is retired, its tokens
// are refused as in every device call.
func TestOfflineResponseSignedByTheTokensKey(t *testing.T) {
	h := newHarness(t)
	ring, err := license.ParseKeyring(h.jwks()) // what a product built now embeds
	if err != nil {
		t.Fatal(err)
	}
	oldOnly := license.NewVerifier(ring, license.WithIssuer(issuer), license.WithClock(h.clock.Now))
	old := h.issue("ten_a", nil)
	a := tokenKID(t, old.Primary)

	b := h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{"alg": "ES256"})["signing_key"].(map[string]any)["kid"].(string)
	h.must(200, "POST", "/signing-keys/"+b+"/activate", adminSecret, nil)
	fresh := h.issue("ten_a", nil)
	if got := tokenKID(t, fresh.Primary); got != b {
		t.Fatalf("a licence issued after the activation is signed by %s, want %s", got, b)
	}

	h.clock.Add(time.Minute)
	now := h.clock.Now()
	resp := h.offlineOK(old.ID, offlineReq(old.ID, old.Primary, "fp1.air", "NONCE0000000000000000000011", now))
	if got := tokenKID(t, resp.Lease); got != a {
		t.Fatalf("the response to a token of %s is signed by %s", a, got)
	}
	if _, err := oldOnly.VerifyLease(resp.Lease); err != nil {
		t.Fatalf("a product that knows only the old key refuses the response: %v", err)
	}
	resp = h.offlineOK(fresh.ID, offlineReq(fresh.ID, fresh.Primary, "fp1.air", "NONCE0000000000000000000012", now))
	if got := tokenKID(t, resp.Lease); got != b {
		t.Fatalf("the response to a token of %s is signed by %s", b, got)
	}

	h.must(200, "POST", "/signing-keys/"+a+"/retire", adminSecret, nil)
	rec := h.do("POST", "/licenses/"+old.ID+"/offline-activation", adminSecret,
		offlineReq(old.ID, old.Primary, "fp2.air", "NONCE0000000000000000000013", now))
	if rec.Code != 400 {
		t.Fatalf("a token of the retired key: %d %s, want 400", rec.Code, rec.Body.String())
	}
}

// An offline activation with a replaced key is refused as replaced even
// for the machine the licence is bound to: unlike an online activation,
// whose answer hands a bound machine the current key, a response file has
// no room for it. The docs say so.
func TestOfflineReplacedKeyOfBoundMachine(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	now := h.clock.Now()
	h.offlineOK(l.ID, offlineReq(l.ID, l.Primary, "fp-air", "n1", now))
	h.must(200, "POST", "/licenses/"+l.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	rec := h.do("POST", "/licenses/"+l.ID+"/offline-activation", adminSecret, offlineReq(l.ID, l.Primary, "fp-air", "n2", now))
	if rec.Code != 400 || errorCode(t, rec) != "KEY_REPLACED" {
		t.Fatalf("bound machine, replaced key: %d %s, want 400 KEY_REPLACED", rec.Code, rec.Body.String())
	}
	// The other slot still answers it.
	h.offlineOK(l.ID, offlineReq(l.ID, l.Secondary, "fp-air", "n3", now))
}
