package licensetest_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
	"github.com/licensekit/licensekit/license/mint"
)

// The control plane signs with the issuer's keys: leases carry the first
// key's kid, and it publishes exactly the issuer's keys — its own first
// key is retired, and a key mint refuses is left out.
func TestControlPlaneSignsWithIssuerKeys(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.Algorithms("ES256", "EdDSA"))
	cp := licensetest.NewControlPlane(iss)
	keys := iss.Keys()
	resp, err := cp.Client().Get(cp.URL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ring, err := license.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	got, want := ring.KeyIDs(), []string{keys[0].KID, keys[1].KID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("published kids %v, want the issuer's %v", got, want)
	}

	// A licence signed by the second key activates; the lease is signed
	// by the first.
	tok := iss.Mint(licensetest.ID("lic_k"), licensetest.SignWith(keys[1].KID))
	c := &heartbeat.Client{BaseURL: cp.URL(), HTTPClient: cp.Client()}
	ans, err := c.Activate(context.Background(), heartbeat.Request{LicenseID: "lic_k", Token: tok, Fingerprint: "m", IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := mint.JWKS(keys[0].MintKey())
	if err != nil {
		t.Fatal(err)
	}
	first, err := license.ParseKeyring(jwks)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := license.NewVerifier(first, license.WithIssuer(iss.Name())).VerifyLease(ans.Lease); err != nil {
		t.Fatalf("the lease is not signed by the issuer's first key: %v", err)
	}
}

// A weak RSA key cannot sign for the control plane.
func TestControlPlaneRefusesWeakFirstKey(t *testing.T) {
	msg := (&fakeT{}).run(func(tb licensetest.TB) {
		licensetest.NewControlPlane(licensetest.NewIssuer(tb, licensetest.Algorithms("RS256"), licensetest.RSABits(1024)))
	})
	if !strings.Contains(msg, "mint refuses that RS256 key") {
		t.Fatalf("weak first key: %q", msg)
	}
}

// A default key file is one licence in two slots: the control plane knows
// both tokens, a machine may run either, and one revoke stops both.
func TestControlPlaneKeyFileIsOneLicence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		iss := licensetest.NewIssuer(t)
		cp := licensetest.NewControlPlane(iss)
		kf, err := license.ParseKeyFile(iss.KeyFile())
		if err != nil {
			t.Fatal(err)
		}
		v := iss.Verifier()
		p, err := v.Verify(kf.Primary)
		if err != nil {
			t.Fatal(err)
		}
		s, err := v.Verify(kf.Secondary)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != s.ID {
			t.Fatalf("the slots are two licences: %s, %s", p.ID, s.ID)
		}
		c := &heartbeat.Client{BaseURL: cp.URL(), HTTPClient: cp.Client()}
		ctx := context.Background()
		req := func(tok, fpr string) heartbeat.Request {
			return heartbeat.Request{LicenseID: p.ID, Token: tok, Fingerprint: fpr, IdempotencyKey: "k-" + fpr}
		}
		if _, err := c.Activate(ctx, req(kf.Secondary, "machine-A")); err != nil {
			t.Fatalf("the secondary slot: %v", err)
		}
		if _, err := c.Activate(ctx, req(kf.Primary, "machine-B")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
			t.Fatalf("the primary slot on a second machine of a one-machine licence: %v", err)
		}
		if _, err := c.Heartbeat(ctx, req(kf.Primary, "machine-A")); err != nil {
			t.Fatalf("machine A beating with the other slot: %v", err)
		}
		cp.Revoke(p.ID)
		if _, err := c.Activate(ctx, req(kf.Primary, "machine-B")); !errors.Is(err, heartbeat.ErrRevoked) {
			t.Fatalf("primary after the revoke: %v", err)
		}
		if _, err := c.Activate(ctx, req(kf.Secondary, "machine-B")); !errors.Is(err, heartbeat.ErrRevoked) {
			t.Fatalf("secondary after the revoke: %v", err)
		}
	})
}

// A licence token presented by a device is learnt even when it was minted
// before the control plane existed, and its other slot is learnt when a
// device presents that one.
func TestControlPlaneLearnsPresentedTokens(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	kf, err := license.ParseKeyFile(iss.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	cp := licensetest.NewControlPlane(iss)
	lic, err := iss.Verifier().Verify(kf.Primary)
	if err != nil {
		t.Fatal(err)
	}
	c := &heartbeat.Client{BaseURL: cp.URL(), HTTPClient: cp.Client()}
	ctx := context.Background()
	if _, err := c.Activate(ctx, heartbeat.Request{LicenseID: lic.ID, Token: kf.Primary, Fingerprint: "m", IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	// Activation takes only a slot's current token: the secondary was
	// learnt when presented.
	if _, err := c.Activate(ctx, heartbeat.Request{LicenseID: lic.ID, Token: kf.Secondary, Fingerprint: "m", IdempotencyKey: "k"}); err != nil {
		t.Fatalf("the secondary slot: %v", err)
	}
	// Another token of the same licence, for a slot it has, is not the
	// slot's current key: the server refuses it as a replaced key.
	stale := iss.Mint(licensetest.ID(lic.ID), licensetest.Slot("primary"), licensetest.Capabilities("extra"))
	_, err = c.Activate(ctx, heartbeat.Request{LicenseID: lic.ID, Token: stale, Fingerprint: "m", IdempotencyKey: "k"})
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 400 {
		t.Fatalf("a second primary token: %v, want 400", err)
	}
}

// Configure sets the product's keys, and refuses an issuer name mismatch.
func TestConfigure(t *testing.T) {
	iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
	cp := licensetest.NewControlPlane(iss)
	cfg := license.Config{Issuer: "acme"}
	iss.Configure(&cfg)
	cp.Configure(&cfg)
	if cfg.Keys == nil || !slices.Equal(cfg.Keys.KeyIDs(), iss.Keyring().KeyIDs()) || cfg.ServerURL != cp.URL() || cfg.HTTPClient == nil {
		t.Fatalf("Configure: %+v", cfg)
	}
	msg := (&fakeT{}).run(func(tb licensetest.TB) {
		licensetest.NewIssuer(tb).Configure(&license.Config{Issuer: "acme"})
	})
	if !strings.Contains(msg, `Config.Issuer is "acme" but this Issuer signs as "licensetest"`) {
		t.Fatalf("mismatch: %q", msg)
	}
	empty := license.Config{}
	licensetest.NewIssuer(t).Configure(&empty)
	if empty.Issuer != "" || empty.Keys == nil {
		t.Fatalf("a product without Config.Issuer: %+v", empty)
	}
}

func TestStandalone(t *testing.T) {
	var tb licensetest.Standalone
	var order []int
	tb.Cleanup(func() { order = append(order, 1) })
	dir := tb.TempDir()
	tb.Cleanup(func() { order = append(order, 2) })
	path := licensetest.NewIssuer(&tb).WriteKeyFile("")
	if filepath.Dir(path) == dir {
		t.Fatal("two TempDir calls gave one directory")
	}
	tb.Close()
	if !slices.Equal(order, []int{2, 1}) {
		t.Fatalf("cleanups ran in order %v, want last first", order)
	}
	for _, p := range []string{dir, path} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left after Close: %v", p, err)
		}
	}
	defer func() {
		err, ok := recover().(error)
		if !ok || err.Error() != "licensetest: issuer has no key with kid \"nope\"" {
			t.Fatalf("Fatalf panicked with %v", err)
		}
	}()
	licensetest.NewIssuer(&tb).Mint(licensetest.SignWith("nope"))
}
