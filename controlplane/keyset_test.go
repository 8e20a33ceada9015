package controlplane_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// product is what a deployed product knows of the vendor's keys: the ones
// it was built with and the ones it learnt. It follows keyset statements
// by the rules products keep, written here independently of the SDK.
type product struct {
	t       testing.TB
	keys    map[string]jose.JSONWebKey
	lastIat int64
}

func newProduct(t testing.TB, jwks []byte) *product {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	p := &product{t: t, keys: map[string]jose.JSONWebKey{}}
	for _, k := range set.Keys {
		p.keys[k.KeyID] = k
	}
	return p
}

type statement struct {
	signedBy string
	iat      int64
	kids     []string // sorted
	keys     []jose.JSONWebKey
}

var errUntrusted = errors.New("signed by a key the product does not trust")

// check verifies a statement with the keys the product trusts.
func (p *product) check(jws string) (statement, error) {
	var st statement
	obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES384, jose.RS256, jose.PS256})
	if err != nil {
		return st, err
	}
	h := obj.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "keyset+jwt" {
		return st, errors.New("typ is not keyset+jwt")
	}
	k, ok := p.keys[h.KeyID]
	if !ok {
		return st, errUntrusted
	}
	raw, err := obj.Verify(k.Key)
	if err != nil {
		return st, err
	}
	var c struct {
		Iss  string            `json:"iss"`
		Iat  int64             `json:"iat"`
		Jti  string            `json:"jti"`
		Keys []jose.JSONWebKey `json:"keys"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return st, err
	}
	if c.Iss != issuer || c.Jti == "" {
		return st, errors.New("wrong iss or no jti")
	}
	st = statement{signedBy: h.KeyID, iat: c.Iat, keys: c.Keys}
	for _, k := range c.Keys {
		tp, err := k.Thumbprint(cryptoSHA256)
		if err != nil || b64(tp) != k.KeyID || k.Algorithm == "" || !k.IsPublic() {
			return st, errors.New("a listed key's kid is not its thumbprint")
		}
		st.kids = append(st.kids, k.KeyID)
	}
	slices.Sort(st.kids)
	return st, nil
}

// learn accepts a statement newer than the last: its keys are added.
func (p *product) learn(jws string) (statement, error) {
	st, err := p.check(jws)
	if err != nil {
		return st, err
	}
	if st.iat <= p.lastIat {
		return st, errors.New("not newer than the last statement")
	}
	p.lastIat = st.iat
	for _, k := range st.keys {
		p.keys[k.KeyID] = k
	}
	return st, nil
}

// verifier checks leases with what the product trusts.
func (p *product) verifier(now func() time.Time) *license.Verifier {
	var set jose.JSONWebKeySet
	for _, k := range p.keys {
		set.Keys = append(set.Keys, k)
	}
	data, _ := json.Marshal(set)
	ring, err := license.ParseKeyring(data)
	if err != nil {
		p.t.Fatal(err)
	}
	return license.NewVerifier(ring, license.WithIssuer(issuer), license.WithClock(now))
}

func (h *harness) wellKnownKeyset() string {
	h.t.Helper()
	return h.must(200, "GET", "/.well-known/keyset", "", nil)["keyset"].(string)
}

func (h *harness) jwks() []byte {
	h.t.Helper()
	return h.do("GET", "/.well-known/jwks.json", "", nil).Body.Bytes()
}

func sortedKIDs(kids ...string) []string { s := slices.Clone(kids); slices.Sort(s); return s }

// TestKeysetRollover runs a rotation A → B with two products built with A
// only: one beats throughout, one is offline until A is retired.
func TestKeysetRollover(t *testing.T) {
	h := newHarness(t)
	keys := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)
	a := keys[0].(map[string]any)["kid"].(string)
	online, offline, late := newProduct(t, h.jwks()), newProduct(t, h.jwks()), newProduct(t, h.jwks())
	l := h.issue("ten_a", map[string]any{"max_machines": 3})
	token := l.Primary // the key the online product presents
	beat := func(name string, p *product, fp string) {
		t.Helper()
		rec, out := h.device("heartbeat", l, token, fp)
		if rec.Code != 200 {
			t.Fatalf("%s: heartbeat %d %s", name, rec.Code, rec.Body.String())
		}
		if out["keyset"] != h.wellKnownKeyset() {
			t.Fatalf("%s: the heartbeat's keyset is not the published one", name)
		}
		if _, err := p.learn(out["keyset"].(string)); err != nil && p.lastIat == 0 {
			t.Fatalf("%s: first statement refused: %v", name, err)
		}
		if _, err := p.verifier(h.clock.Now).VerifyLease(out["lease"].(string)); err != nil {
			t.Fatalf("%s: the product cannot verify its lease: %v", name, err)
		}
		if k, ok := out["license_key"].(string); ok {
			if _, err := p.verifier(h.clock.Now).Verify(k); err != nil {
				t.Fatalf("%s: the product cannot verify its new key: %v", name, err)
			}
			token = k
		}
	}

	// The first key announces itself.
	st, err := online.check(h.wellKnownKeyset())
	if err != nil || st.signedBy != a || !slices.Equal(st.kids, []string{a}) {
		t.Fatalf("first statement: %+v %v", st, err)
	}
	for _, op := range []string{"activate", "heartbeat"} {
		rec, out := h.device(op, l, l.Primary, "fp-on")
		if rec.Code != 200 || out["keyset"] == nil {
			t.Fatalf("%s answer without keyset: %d %v", op, rec.Code, out)
		}
	}
	for _, fp := range []string{"fp-off", "fp-late"} {
		if rec, _ := h.device("activate", l, l.Primary, fp); rec.Code != 200 {
			t.Fatal(rec.Body.String())
		}
	}
	beat("online, before", online, "fp-on")

	// 1. B is created: announced by A.
	h.clock.Add(time.Hour)
	b := h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{"alg": "ES256"})["signing_key"].(map[string]any)["kid"].(string)
	st, err = online.learn(h.wellKnownKeyset())
	if err != nil || st.signedBy != a || !slices.Equal(st.kids, sortedKIDs(a, b)) {
		t.Fatalf("after create: %+v %v", st, err)
	}
	created := st.iat

	// 2. B is activated, in the same second: signed by A, listing A and B,
	// newer than the last.
	h.must(200, "POST", "/signing-keys/"+b+"/activate", adminSecret, nil)
	st, err = online.learn(h.wellKnownKeyset())
	if err != nil || st.signedBy != a || !slices.Equal(st.kids, sortedKIDs(a, b)) || st.iat <= created {
		t.Fatalf("after activate: %+v %v (created at %d)", st, err, created)
	}
	beat("online, after activation", online, "fp-on") // a lease signed by B verifies: the product learnt B
	if _, err := newProduct(t, []byte(`{"keys":[`+jwkOf(t, online, a)+`]}`)).verifier(h.clock.Now).VerifyLease(leaseOf(t, h, l, "fp-on")); err == nil {
		t.Fatal("a product with A only verified a lease signed by B")
	}

	// A product offline while B was created and activated learns B at its
	// next contact: the statement it is handed is signed by A.
	_, out := h.device("heartbeat", l, l.Primary, "fp-late")
	if st, err := late.learn(out["keyset"].(string)); err != nil || !slices.Equal(st.kids, sortedKIDs(a, b)) {
		t.Fatalf("the late product: %+v %v", st, err)
	}
	if _, err := late.verifier(h.clock.Now).VerifyLease(out["lease"].(string)); err != nil {
		t.Fatalf("the late product cannot verify a lease signed by B: %v", err)
	}

	// 3. The licence is re-issued under B (a renewal would do the same);
	// the beating product is handed its new key, signed by B.
	h.must(200, "POST", "/licenses/"+l.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	beat("online, after the reset", online, "fp-on")
	if token == l.Primary {
		t.Fatal("the product was not handed the key signed by B")
	}

	// 4. A is retired: signed by B, listing only B.
	h.clock.Add(time.Hour)
	h.must(200, "POST", "/signing-keys/"+a+"/retire", adminSecret, nil)
	ks := h.wellKnownKeyset()
	st, err = online.learn(ks)
	if err != nil || st.signedBy != b || !slices.Equal(st.kids, []string{b}) {
		t.Fatalf("after retire: %+v %v", st, err)
	}
	beat("online, after retirement", online, "fp-on")
	if _, ok := online.keys[a]; !ok {
		t.Fatal("a learnt statement removed a key")
	}

	// The product offline through the whole rotation never learnt B: the
	// statement now published is signed by B, so it cannot follow it, and
	// its key, signed by A, is no longer accepted.
	if _, err := offline.learn(ks); !errors.Is(err, errUntrusted) {
		t.Fatalf("the product that never learnt B took the statement: %v", err)
	}
	if rec, _ := h.device("heartbeat", l, l.Primary, "fp-off"); rec.Code != 400 {
		t.Fatalf("a key signed by the retired key: %d %s", rec.Code, rec.Body.String())
	}

	// A restart serves the same statement; nothing is made anew.
	events := h.events()
	srv2, err := controlplane.New(context.Background(), controlplane.Config{Store: h.store, Issuer: issuer, AdminKey: adminSecret,
		Clock: h.clock.Now, SecretKey: testSecretKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	h2 := &harness{t: t, srv: srv2, store: h.store, clock: h.clock}
	if got := h2.wellKnownKeyset(); got != ks {
		t.Fatal("a restarted server serves another statement")
	}
	if n := h.events(); n != events {
		t.Fatalf("a restart wrote %d events", n-events)
	}
}

// TestKeysetRepair: keys changed behind the server's back (a store from
// before statements, another process racing) get a statement that lists
// exactly the published keys, signed by the last statement's signer.
func TestKeysetRepair(t *testing.T) {
	h := newHarness(t)
	p := newProduct(t, h.jwks())
	var a string
	for kid := range p.keys {
		a = kid
	}
	b := h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{})["signing_key"].(map[string]any)["kid"].(string)
	if _, err := p.learn(h.wellKnownKeyset()); err != nil {
		t.Fatal(err)
	}
	if err := h.store.RetireSigningKey(context.Background(), b, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	srv2, err := controlplane.New(context.Background(), controlplane.Config{Store: h.store, Issuer: issuer, AdminKey: adminSecret,
		Clock: h.clock.Now, SecretKey: testSecretKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	h2 := &harness{t: t, srv: srv2, store: h.store, clock: h.clock}
	st, err := p.learn(h2.wellKnownKeyset())
	if err != nil || st.signedBy != a || !slices.Equal(st.kids, []string{a}) {
		t.Fatalf("repaired statement %+v %v", st, err)
	}
	ev := h2.must(200, "GET", "/audit?action=signing.keyset&limit=1", adminSecret, nil)["events"].([]any)[0].(map[string]any)
	if ev["details"].(map[string]any)["op"] != "repair" || ev["actor"] != "system" {
		t.Fatalf("repair event %v", ev)
	}
}

// TestImportSigningKeyStatements: an imported key that is activated gets
// two statements, both signed by the key active before.
func TestImportSigningKeyStatements(t *testing.T) {
	h := newHarness(t)
	p := newProduct(t, h.jwks())
	k := newImportKey(t)
	if err := h.srv.ImportSigningKey(context.Background(), k, true); err != nil {
		t.Fatal(err)
	}
	list := h.must(200, "GET", "/audit?action=signing.keyset", adminSecret, nil)["events"].([]any)
	if len(list) != 3 { // the first key's, the import's, the activation's
		t.Fatalf("%d statements", len(list))
	}
	for i := len(list) - 1; i >= 0; i-- {
		if _, err := p.learn(list[i].(map[string]any)["details"].(map[string]any)["statement"].(string)); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
	}
	if _, ok := p.keys[k.KID]; !ok {
		t.Fatal("the imported key was not learnt")
	}
	if err := h.srv.ImportSigningKey(context.Background(), k, false); !errors.Is(err, controlplane.ErrAlreadyExists) {
		t.Fatalf("importing again: %v", err)
	}
}

var cryptoSHA256 = crypto.SHA256

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newImportKey(t testing.TB) *mint.Key {
	k, err := mint.GenerateKey(license.ES384)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwkOf returns the public JWK of kid that p trusts.
func jwkOf(t testing.TB, p *product, kid string) string {
	data, err := json.Marshal(p.keys[kid])
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// leaseOf returns a fresh lease of machine fp.
func leaseOf(t testing.TB, h *harness, l lic, fp string) string {
	h.clock.Add(2 * time.Second)
	rec, out := h.device("heartbeat", l, l.Primary, fp)
	if rec.Code != 200 {
		t.Fatalf("heartbeat: %d", rec.Code)
	}
	return out["lease"].(string)
}

// TestKeysetLimit: a statement lists at most 16 keys, so a 17th published
// key is refused, with a reason, and nothing is stored.
func TestKeysetLimit(t *testing.T) {
	h := newHarness(t)
	for range mint.MaxKeysetKeys - 1 {
		h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{})
	}
	before := h.events()
	rec := h.do("POST", "/signing-keys", adminSecret, map[string]any{})
	if rec.Code != 409 || !strings.Contains(rec.Body.String(), "retire one first") {
		t.Fatalf("a 17th key: %d %s", rec.Code, rec.Body.String())
	}
	if n := len(h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)); n != mint.MaxKeysetKeys || h.events() != before {
		t.Fatalf("%d keys, %d new events after the refusal", n, h.events()-before)
	}
}
