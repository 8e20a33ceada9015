package licensetest

import (
	"context"
	"errors"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// NewControlPlane returns the reference control plane over a fresh
// in-memory store, signing with iss's keys: the key iss signs with by
// default (its first) is the active key, which signs every lease, and its
// other keys are published beside it, as after a key rotation. A key mint
// refuses (a weak RSA key made with [RSABits]) is left out; the first key
// must not be one. From now on it knows every licence iss mints, and any
// licence token of iss a device presents. It is closed when the issuer's
// test ends; failures fail that test.
func NewControlPlane(iss *Issuer) *ControlPlane {
	iss.t.Helper()
	if iss.signers[0] == nil {
		iss.fatalf("licensetest: a ControlPlane signs with the issuer's first key, and mint refuses that %s key", iss.keys[0].Alg)
	}
	ctx := context.Background()
	store := memstore.New()
	admin := "licensetest_" + randomHex(16)
	srv, err := controlplane.New(ctx, controlplane.Config{
		Store:            store,
		Issuer:           iss.name,
		AdminKey:         controlplane.Secret(admin),
		FlushInterval:    -1, // write-through: no goroutine, so synctest bubbles work
		DeviceRateLimit:  controlplane.RateLimit{PerSecond: -1},
		AdminRateLimit:   controlplane.RateLimit{PerSecond: -1},
		AuthFailureLimit: controlplane.RateLimit{PerSecond: -1},
	})
	if err != nil {
		iss.fatalf("licensetest: starting the control plane: %v", err)
	}
	iss.t.Cleanup(func() { _ = srv.Close() })
	cp := &ControlPlane{issuer: iss, srv: srv, store: store, admin: admin, forgotten: map[string]bool{}}

	// The server made a key of its own on first start: it gives way to
	// the issuer's keys, and is retired so that only those are published.
	var own []string
	var list struct {
		SigningKeys []struct {
			KID string `json:"kid"`
		} `json:"signing_keys"`
	}
	cp.must("GET", "/signing-keys", nil, &list)
	for _, k := range list.SigningKeys {
		own = append(own, k.KID)
	}
	var published []*mint.Key
	for n, mk := range iss.minted {
		if iss.signers[n] == nil {
			continue
		}
		if err := srv.ImportSigningKey(ctx, mk, n == 0); err != nil {
			iss.fatalf("licensetest: giving the control plane the issuer's %s key %q: %v", mk.Alg, mk.KID, err)
		}
		published = append(published, mk)
	}
	for _, kid := range own {
		cp.must("POST", "/signing-keys/"+kid+"/retire", nil, nil)
	}

	jwks, err := mint.JWKS(published...)
	if err != nil {
		iss.fatalf("licensetest: encoding the control plane's JWKS: %v", err)
	}
	ring, err := license.ParseKeyring(jwks)
	if err != nil {
		iss.fatalf("licensetest: parsing the control plane's JWKS: %v", err)
	}
	cp.verifier = license.NewVerifier(ring, license.WithIssuer(iss.name), license.WithLeeway(license.DefaultLeeway))
	iss.book.start()
	return cp
}

// learn makes sure the store knows the licence a device call names, when
// the token it presents is a valid licence token of the issuer for it: a
// licence the store lacks is registered from the token's claims (with
// any other slot's token the issuer minted), and a slot the store has no
// token for learns this one. Anything else is the server's to answer —
// the real server then refuses a token that is not its slot's current
// one, as it does a key replaced by a reset.
func (cp *ControlPlane) learn(ctx context.Context, id, token string) {
	cp.learnMu.Lock()
	defer cp.learnMu.Unlock()
	if cp.forgotten[id] {
		return
	}
	l, err := cp.store.GetLicense(ctx, id)
	known := err == nil
	if known {
		digest := controlplane.TokenDigest(token)
		if l.Status == controlplane.StatusDeleted || digest == l.PrimaryDigest || digest == l.SecondaryDigest {
			return // the common case: nothing to learn, no signature to check
		}
	} else if !errors.Is(err, controlplane.ErrNotFound) {
		return
	}
	lic, err := cp.verifier.Verify(token)
	if err != nil || lic.ID != id {
		return
	}
	if !known {
		cp.register(ctx, lic, token)
		return
	}
	slot := slotOf(lic)
	if (slot == controlplane.SlotPrimary && l.Primary != "") || (slot == controlplane.SlotSecondary && l.Secondary != "") {
		return
	}
	_, _ = cp.store.UpdateLicense(ctx, id, func(l *controlplane.License) ([]controlplane.Event, error) {
		setSlot(l, slot, token)
		return nil, nil
	})
}

// known makes sure the store knows a licence an admin call names, from
// the tokens the issuer minted for it, and fails the test when it cannot.
func (cp *ControlPlane) known(id string) {
	cp.issuer.t.Helper()
	ctx := context.Background()
	cp.learnMu.Lock()
	defer cp.learnMu.Unlock()
	if _, err := cp.store.GetLicense(ctx, id); err == nil || cp.forgotten[id] {
		return
	}
	for _, tok := range cp.issuer.book.lookup(id) {
		if lic, err := cp.verifier.Verify(tok); err == nil && lic.ID == id {
			cp.register(ctx, lic, tok)
			return
		}
	}
	cp.issuer.fatalf("licensetest: the control plane does not know licence %q: the issuer minted no valid licence "+
		"token with that jti since NewControlPlane, and no device presented one", id)
}

// register stores a licence from a verified token of it, which becomes its
// slot's current token; the other slot takes the first valid token of
// that slot the issuer minted for the licence. cp.learnMu is held.
func (cp *ControlPlane) register(ctx context.Context, lic *license.License, token string) {
	l := controlplane.License{
		ID: lic.ID, TenantID: lic.TenantID, Audience: lic.Audience, Subject: lic.Subject,
		TenantCountry: lic.TenantCountry, Plan: lic.Plan, Status: controlplane.StatusActive,
		Capabilities: lic.Capabilities, Metadata: lic.Metadata, IssuedAt: lic.IssuedAt,
		ExpiresAt: lic.ExpiresAt, MaxMachines: 1, UpdatedAt: lic.IssuedAt,
	}
	slot := slotOf(lic)
	setSlot(&l, slot, token)
	for _, tok := range cp.issuer.book.lookup(lic.ID) {
		other, err := cp.verifier.Verify(tok)
		if err == nil && other.ID == lic.ID && slotOf(other) != slot {
			setSlot(&l, slotOf(other), tok)
			break
		}
	}
	ev := controlplane.Event{Time: lic.IssuedAt, Actor: "system", Action: "license.issue", Target: l.ID,
		TenantID: l.TenantID, Details: map[string]string{"by": "licensetest"}}
	_ = cp.store.CreateLicense(ctx, l, nil, ev) // a lost race leaves the licence of the winner
}

// slotOf is the slot a token belongs in: its slot claim, primary without.
func slotOf(lic *license.License) string {
	if lic.Slot == license.SlotSecondary {
		return controlplane.SlotSecondary
	}
	return controlplane.SlotPrimary
}

func setSlot(l *controlplane.License, slot, token string) {
	if slot == controlplane.SlotSecondary {
		l.Secondary, l.SecondaryDigest = token, controlplane.TokenDigest(token)
		return
	}
	l.Primary, l.PrimaryDigest = token, controlplane.TokenDigest(token)
}
