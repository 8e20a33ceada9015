package controlplane_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// An imported key signs once activated, and a second one is published
// without signing; the server's own first key stays published until
// retired. A key products would refuse, or one imported twice, changes
// nothing.
func TestImportSigningKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	signer, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	other, err := mint.GenerateKey(license.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.ImportSigningKey(ctx, signer, true); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.ImportSigningKey(ctx, other, false); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, k := range h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any) {
		k := k.(map[string]any)
		states[k["kid"].(string)] = k["state"].(string)
	}
	if len(states) != 3 || states[signer.KID] != controlplane.SigningActive || states[other.KID] != controlplane.SigningPending {
		t.Fatalf("signing keys after import: %v", states)
	}
	for _, kid := range []string{signer.KID, other.KID} {
		if !slices.Contains(keyIDs(t, h), kid) {
			t.Fatalf("JWKS lacks imported key %s", kid)
		}
	}
	// Licences issued now carry the imported key's kid and verify
	// against it alone.
	l := h.issue("ten_a", nil)
	own := mustKeyring(t, signer)
	if _, err := license.NewVerifier(own, license.WithIssuer(issuer), license.WithClock(h.clock.Now)).Verify(l.Primary); err != nil {
		t.Fatalf("a licence issued after the import is not signed by the imported key: %v", err)
	}

	before := h.events()
	if err := h.srv.ImportSigningKey(ctx, signer, false); !errors.Is(err, controlplane.ErrAlreadyExists) {
		t.Fatalf("importing a key twice: %v", err)
	}
	if err := h.srv.ImportSigningKey(ctx, nil, true); !errors.Is(err, controlplane.ErrSigningKey) {
		t.Fatalf("nil key: %v", err)
	}
	forged := &mint.Key{Alg: signer.Alg, KID: other.KID, Private: signer.Private} // a kid that is not its thumbprint
	if err := h.srv.ImportSigningKey(ctx, forged, true); !errors.Is(err, controlplane.ErrSigningKey) {
		t.Fatalf("key with a foreign kid: %v", err)
	}
	wrongAlg := &mint.Key{Alg: license.ES256, KID: signer.KID, Private: signer.Private}
	if err := h.srv.ImportSigningKey(ctx, wrongAlg, true); !errors.Is(err, controlplane.ErrSigningKey) {
		t.Fatalf("Ed25519 key claiming ES256: %v", err)
	}
	if got := h.events(); got != before {
		t.Fatalf("refused imports wrote %d audit events", got-before)
	}
	if n := len(h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)); n != 3 {
		t.Fatalf("refused imports changed the keys: %d", n)
	}
}

// With a negative FlushInterval the Server starts no goroutine and stores
// each beat before answering it, so it runs inside a synctest bubble and
// a reader of the store sees every beat at once. It is deliberately not
// closed: a goroutine it had started would outlive the bubble's function,
// and synctest.Test fails then.
func TestWriteThroughStartsNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := memstore.New()
		srv, err := controlplane.New(context.Background(), controlplane.Config{
			Store: st, Issuer: issuer, AdminKey: adminSecret, FlushInterval: -1,
			DeviceRateLimit: controlplane.RateLimit{PerSecond: -1},
		})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, srv: srv, store: st, clock: &clock{t: time.Now()}}
		l := h.issue("ten_a", nil)
		if _, err := h.activate(l, l.Primary, "fp-A"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		h.clock.Add(time.Hour)
		resp, err := h.beat(l, l.Primary, "fp-A")
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.GetLicense(context.Background(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		ls := h.lease(resp, l.ID, "fp-A")
		if m := got.Machines[0]; !m.LastHeartbeatAt.Equal(time.Now()) || !m.LeaseExpiresAt.Equal(ls.ExpiresAt) {
			t.Fatalf("the beat is not stored before its answer: %+v", m)
		}
	})
}

// A lease pushed a second ahead of the clock, to follow the previous one,
// keeps exp = clock + grace: asking often buys no offline time.
func TestBumpedLeaseKeepsItsExp(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	first, err := h.activate(l, l.Primary, "fp-A")
	if err != nil {
		t.Fatal(err)
	}
	second, err := h.beat(l, l.Primary, "fp-A") // the same second
	if err != nil {
		t.Fatal(err)
	}
	a, b := h.lease(first, l.ID, "fp-A"), h.lease(second, l.ID, "fp-A")
	if !b.IssuedAt.After(a.IssuedAt) || !b.ExpiresAt.Equal(a.ExpiresAt) {
		t.Fatalf("second lease of a second: iat %v exp %v after iat %v exp %v", b.IssuedAt, b.ExpiresAt, a.IssuedAt, a.ExpiresAt)
	}
}

func keyIDs(t *testing.T, h *harness) []string {
	t.Helper()
	rec := h.do("GET", "/.well-known/jwks.json", "", nil)
	ring, err := license.ParseKeyring(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return ring.KeyIDs()
}

func mustKeyring(t *testing.T, keys ...*mint.Key) *license.Keyring {
	t.Helper()
	data, err := mint.JWKS(keys...)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := license.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}
