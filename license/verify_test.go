package license_test

import (
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// vtTB lets one licensetest.Issuer be shared by every test of the file
// (RSA key generation is slow under -race): a licensetest failure outside
// any test's goroutine panics instead of calling a stale t.Fatalf.
var vtTB licensetest.Standalone

// vtIssuer has one key per algorithm, then a second EdDSA key (rotation).
var vtIssuer = sync.OnceValue(func() *licensetest.Issuer {
	return licensetest.NewIssuer(&vtTB, licensetest.IssuerName("acme"),
		licensetest.Algorithms(license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256, license.EdDSA))
})

var vtAlgs = []string{license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256}

// vtRing returns a keyring of just the given issuer keys, parsed from JWKS.
func vtRing(t *testing.T, keys ...licensetest.Key) *license.Keyring {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := license.ParseKeyring(data)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Fixed instants for the table tests: issued at vtIat, valid for 30 days.
var (
	vtIat = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	vtExp = vtIat.Add(30 * 24 * time.Hour)
	vtNow = vtIat.Add(24 * time.Hour)
)

func vtClock() time.Time { return vtNow }

// vtFull mints every claim of the token format with known values.
func vtFull() []licensetest.MintOption {
	return []licensetest.MintOption{
		licensetest.ID("lic_full"), licensetest.Subject("sub_8f2k"), licensetest.Audience("Acme Health GmbH"),
		licensetest.Tenant("ten_abc123"), licensetest.Country("DE"), licensetest.Plan(license.PlanMonthly),
		licensetest.Slot(license.SlotSecondary), licensetest.Fingerprint("fp_this"),
		licensetest.IssuedAt(vtIat), licensetest.NotBefore(vtIat.Add(time.Hour)), licensetest.ExpiresAt(vtExp),
		licensetest.Capabilities("kyc:read", "kyc:write"), licensetest.Metadata(map[string]string{"seats": "25", "région": "Île-de-France"}),
	}
}

var vtFullLicense = license.License{
	ID: "lic_full", Issuer: "acme", Subject: "sub_8f2k", Audience: []string{"Acme Health GmbH"},
	TenantID: "ten_abc123", TenantCountry: "DE", Plan: license.PlanMonthly, Slot: license.SlotSecondary,
	Fingerprint: "fp_this", IssuedAt: vtIat, NotBefore: vtIat.Add(time.Hour), ExpiresAt: vtExp,
	Capabilities: []string{"kyc:read", "kyc:write"}, Metadata: map[string]string{"seats": "25", "région": "Île-de-France"},
}

func TestVerifyEachAlgorithm(t *testing.T) {
	iss := vtIssuer()
	full := iss.Verifier(license.WithClock(vtClock), license.WithAudience("Acme Health GmbH"),
		license.WithFingerprint(fxThisMachine))
	for _, k := range iss.Keys()[:len(vtAlgs)] {
		t.Run(k.Alg, func(t *testing.T) {
			tok := iss.Mint(append(vtFull(), licensetest.SignWith(k.KID))...)
			for _, tc := range []struct {
				name  string
				v     *license.Verifier
				token string
			}{
				{"kid selects the key in the full ring", full, tok},
				{"sole key, kid present", license.NewVerifier(vtRing(t, k), license.WithClock(vtClock)), tok},
				{"sole key, no kid", license.NewVerifier(vtRing(t, k), license.WithClock(vtClock)),
					iss.Mint(append(vtFull(), licensetest.SignWith(k.KID), licensetest.OmitHeader("kid"))...)},
				{"typ absent", full, iss.Mint(append(vtFull(), licensetest.SignWith(k.KID), licensetest.OmitHeader("typ"))...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					lic, err := tc.v.Verify(tc.token)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(*lic, vtFullLicense) {
						t.Errorf("licence\n got %+v\nwant %+v", *lic, vtFullLicense)
					}
				})
			}
			// A key pinned to its algorithm refuses every other one, signed
			// genuinely by a key of that algorithm but naming this key.
			for _, other := range iss.Keys()[:len(vtAlgs)] {
				if other.Alg == k.Alg {
					continue
				}
				_, err := full.Verify(iss.Mint(append(vtFull(), licensetest.SignWith(other.KID), licensetest.Header("kid", k.KID))...))
				fxWantSentinel(t, err, license.ErrAlgorithm)
			}
		})
	}
}

// TestVerifyPEMKeyring: the same tokens verify against the PEM form of the
// keys, except PS256, which PEM cannot express (an RSA key from PEM is RS256).
func TestVerifyPEMKeyring(t *testing.T) {
	iss := vtIssuer()
	kr, err := license.ParseKeyring(iss.PEM())
	if err != nil {
		t.Fatal(err)
	}
	v := license.NewVerifier(kr, license.WithClock(vtClock))
	for _, k := range iss.Keys() {
		_, err := v.Verify(iss.Mint(append(vtFull(), licensetest.SignWith(k.KID))...))
		if k.Alg == license.PS256 {
			fxWantSentinel(t, err, license.ErrAlgorithm)
		} else if err != nil {
			t.Errorf("%s via PEM: %v", k.Alg, err)
		}
	}
}

func TestVerifyClaimsMapping(t *testing.T) {
	iss := vtIssuer()
	base := license.License{
		Issuer: "acme", Subject: licensetest.DefaultSubject, Audience: []string{licensetest.DefaultAudience},
		TenantID: licensetest.DefaultTenant, Plan: licensetest.DefaultPlan, IssuedAt: vtIat, ExpiresAt: vtExp,
	}
	with := func(edit func(l *license.License)) license.License {
		l := base
		edit(&l)
		return l
	}
	raw := licensetest.Claim // any JSON value
	for _, tc := range []struct {
		name string
		opts []licensetest.MintOption
		want license.License
	}{
		{"defaults: optional claims absent", nil, base},
		{"every claim", vtFull(), vtFullLicense},
		{"aud as a string", []licensetest.MintOption{licensetest.AudienceString("Acme Health GmbH")},
			with(func(l *license.License) { l.Audience = []string{"Acme Health GmbH"} })},
		{"aud as an array of two", []licensetest.MintOption{licensetest.Audience("Acme Health GmbH", "Acme Labs")},
			with(func(l *license.License) { l.Audience = []string{"Acme Health GmbH", "Acme Labs"} })},
		{"plan monthly", []licensetest.MintOption{licensetest.Plan("monthly")}, with(func(l *license.License) { l.Plan = "monthly" })},
		{"plan community", []licensetest.MintOption{licensetest.Plan("community")}, with(func(l *license.License) { l.Plan = "community" })},
		{"plan custom", []licensetest.MintOption{licensetest.Plan("custom")}, with(func(l *license.License) { l.Plan = "custom" })},
		{"plan absent", []licensetest.MintOption{licensetest.Omit("plan")}, with(func(l *license.License) { l.Plan = "" })},
		{"slot primary", []licensetest.MintOption{licensetest.Slot("primary")}, with(func(l *license.License) { l.Slot = "primary" })},
		{"tenant_ctry", []licensetest.MintOption{licensetest.Country("CH")}, with(func(l *license.License) { l.TenantCountry = "CH" })},
		{"fpr", []licensetest.MintOption{licensetest.Fingerprint("fp_x")}, with(func(l *license.License) { l.Fingerprint = "fp_x" })},
		{"nbf", []licensetest.MintOption{licensetest.NotBefore(vtIat)}, with(func(l *license.License) { l.NotBefore = vtIat })},
		{"capabilities empty array", []licensetest.MintOption{licensetest.Capabilities()},
			with(func(l *license.License) { l.Capabilities = []string{} })},
		{"metadata empty object", []licensetest.MintOption{licensetest.Metadata(nil)},
			with(func(l *license.License) { l.Metadata = map[string]string{} })},
		{"metadata with escapes", []licensetest.MintOption{raw("metadata", json.RawMessage(`{"a\"b":"c\nd","\u00e9":"\ud83d\ude00"}`))},
			with(func(l *license.License) { l.Metadata = map[string]string{`a"b`: "c\nd", "é": "😀"} })},
		{"unknown claims are ignored", []licensetest.MintOption{raw("ext", map[string]any{"nested": []any{1, "x", nil, true}}), raw("scope", "admin")}, base},
		{"iat = exp", []licensetest.MintOption{licensetest.IssuedAt(vtExp), licensetest.ExpiresAt(vtExp)},
			with(func(l *license.License) { l.IssuedAt = vtExp })},
		{"nbf = exp", []licensetest.MintOption{licensetest.NotBefore(vtExp)},
			with(func(l *license.License) { l.NotBefore = vtExp })},
		{"exp at the end of year 9998", []licensetest.MintOption{licensetest.ExpiresAt(time.Date(9998, 12, 31, 23, 59, 59, 0, time.UTC))},
			with(func(l *license.License) { l.ExpiresAt = time.Date(9998, 12, 31, 23, 59, 59, 0, time.UTC) })},
		// Optional claims that are null count as absent (the optional ones).
		{"nbf null", []licensetest.MintOption{raw("nbf", nil)}, base},
		{"tenant_ctry null", []licensetest.MintOption{raw("tenant_ctry", nil)}, base},
		{"plan null", []licensetest.MintOption{raw("plan", nil)}, with(func(l *license.License) { l.Plan = "" })},
		{"slot null", []licensetest.MintOption{raw("slot", nil)}, base},
		{"capabilities null", []licensetest.MintOption{raw("capabilities", nil)}, base},
		{"metadata null", []licensetest.MintOption{raw("metadata", nil)}, base},
		{"fpr null", []licensetest.MintOption{raw("fpr", nil)}, base},
		{"fpr empty: unbound", []licensetest.MintOption{licensetest.Fingerprint("")}, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]licensetest.MintOption{licensetest.ID("lic_map"), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp)}, tc.opts...)
			// Judge at vtNow, or later when iat or nbf are later.
			now := vtNow
			for _, at := range []time.Time{tc.want.IssuedAt, tc.want.NotBefore} {
				if at.After(now) {
					now = at
				}
			}
			v := iss.Verifier(license.WithClock(func() time.Time { return now }))
			lic, err := v.Verify(iss.Mint(opts...))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want.ID == "" {
				want.ID = "lic_map"
			}
			if !reflect.DeepEqual(*lic, want) {
				t.Errorf("licence\n got %#v\nwant %#v", *lic, want)
			}
			if lic.Capabilities == nil && lic.Has("") {
				t.Error("Has(\"\") on no capabilities")
			}
		})
	}
}

// TestVerifyRequiredNullClaims: a required claim that is null is wrongly
// typed, not absent.
func TestVerifyRequiredNullClaims(t *testing.T) {
	iss := vtIssuer()
	v := iss.Verifier(license.WithClock(vtClock))
	for _, name := range []string{"iss", "sub", "aud", "jti", "tid", "iat", "exp"} {
		_, err := v.Verify(iss.Mint(licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp), licensetest.Claim(name, nil)))
		fxWantSentinel(t, err, license.ErrClaims)
		_, err = v.Verify(iss.Mint(licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp), licensetest.Omit(name)))
		fxWantSentinel(t, err, license.ErrClaims)
	}
}

func TestLicenseHas(t *testing.T) {
	lic := &license.License{Capabilities: []string{"kyc:read", "kyc:write", "reports:*"}}
	for _, tc := range []struct {
		cap  string
		want bool
	}{
		{"kyc:read", true},
		{"kyc:write", true},
		{"reports:*", true},
		{"reports:export", false}, // no wildcards
		{"KYC:READ", false},       // no case folding
		{"kyc", false},            // no prefixes
		{"kyc:read ", false},
		{"", false},
	} {
		if got := lic.Has(tc.cap); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.cap, got, tc.want)
		}
	}
	var nilLic *license.License
	if nilLic.Has("kyc:read") {
		t.Error("nil licence has a capability")
	}
	if (&license.License{}).Has("") {
		t.Error("empty licence has the empty capability")
	}

	// Through a real token.
	iss := vtIssuer()
	got, err := iss.Verifier().Verify(iss.Mint(licensetest.Capabilities("kyc:write")))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Has("kyc:write") || got.Has("kyc:read") {
		t.Errorf("capabilities %v", got.Capabilities)
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	iss := vtIssuer()
	keys := iss.Keys()
	oldKey, newKey := keys[0], keys[len(keys)-1] // both EdDSA
	both := license.NewVerifier(vtRing(t, oldKey, newKey), license.WithClock(vtClock))
	onlyNew := license.NewVerifier(vtRing(t, newKey), license.WithClock(vtClock))
	oldTok := iss.Mint(licensetest.SignWith(oldKey.KID), licensetest.ID("lic_old"), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp))
	newTok := iss.Mint(licensetest.SignWith(newKey.KID), licensetest.ID("lic_new"), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp))

	for _, tc := range []struct {
		name   string
		v      *license.Verifier
		token  string
		wantID string
		want   *license.Error
	}{
		{"old key during the overlap", both, oldTok, "lic_old", nil},
		{"new key during the overlap", both, newTok, "lic_new", nil},
		{"new key after the old one is retired", onlyNew, newTok, "lic_new", nil},
		{"old token after its key is retired", onlyNew, oldTok, "", license.ErrUnknownKey},
		{"no kid while two keys are published", both,
			iss.Mint(licensetest.SignWith(newKey.KID), licensetest.OmitHeader("kid"), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp)), "", license.ErrUnknownKey},
		{"no kid once one key is left", onlyNew,
			iss.Mint(licensetest.SignWith(newKey.KID), licensetest.OmitHeader("kid"), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp)), "", nil},
		{"new key's signature under the old kid", both,
			iss.Mint(licensetest.SignWith(newKey.KID), licensetest.Header("kid", oldKey.KID), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp)), "", license.ErrSignature},
		{"the full issuer ring", iss.Verifier(license.WithClock(vtClock)), oldTok, "lic_old", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lic, err := tc.v.Verify(tc.token)
			fxWantSentinel(t, err, tc.want)
			if tc.want == nil && tc.wantID != "" && lic.ID != tc.wantID {
				t.Errorf("ID = %q, want %q", lic.ID, tc.wantID)
			}
		})
	}
}

func TestVerifyWithClockAndLeeway(t *testing.T) {
	iss := vtIssuer()
	nbf := vtIat.Add(time.Hour)
	tok := iss.Mint(licensetest.IssuedAt(vtIat), licensetest.NotBefore(nbf), licensetest.ExpiresAt(vtExp))
	s := time.Second
	for _, tc := range []struct {
		name   string
		now    time.Time
		leeway *time.Duration
		want   *license.Error
	}{
		{"well inside", vtNow, nil, nil},
		{"before iat-leeway", vtIat.Add(-61 * s), nil, license.ErrNotYetValid},
		{"at nbf-leeway", nbf.Add(-60 * s), nil, nil},
		{"one second before nbf-leeway", nbf.Add(-61 * s), nil, license.ErrNotYetValid},
		{"at nbf", nbf, nil, nil},
		{"at exp", vtExp, nil, nil},
		{"at exp+leeway", vtExp.Add(60 * s), nil, nil},
		{"one second after exp+leeway", vtExp.Add(61 * s), nil, license.ErrExpired},
		{"a nanosecond after exp+leeway", vtExp.Add(60*s + 1), nil, license.ErrExpired},
		{"ten years later", vtExp.AddDate(10, 0, 0), nil, license.ErrExpired},
		{"leeway 0, at exp", vtExp, ptr(time.Duration(0)), nil},
		{"leeway 0, one second after exp", vtExp.Add(s), ptr(time.Duration(0)), license.ErrExpired},
		{"leeway 0, one second before nbf", nbf.Add(-s), ptr(time.Duration(0)), license.ErrNotYetValid},
		{"leeway 10m, 9m59s after exp", vtExp.Add(599 * s), ptr(10 * time.Minute), nil},
		{"leeway 10m, 10m01s after exp", vtExp.Add(601 * s), ptr(10 * time.Minute), license.ErrExpired},
		{"leeway 10m, 10m before nbf", nbf.Add(-600 * s), ptr(10 * time.Minute), nil},
		{"negative leeway is zero", vtExp.Add(s), ptr(-time.Hour), license.ErrExpired},
		{"negative leeway is zero, at exp", vtExp, ptr(-time.Hour), nil},
		{"clock in another zone", vtExp.In(time.FixedZone("UTC+14", 14*3600)), nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []license.Option{license.WithClock(func() time.Time { return tc.now })}
			if tc.leeway != nil {
				opts = append(opts, license.WithLeeway(*tc.leeway))
			}
			_, err := iss.Verifier(opts...).Verify(tok)
			fxWantSentinel(t, err, tc.want)
		})
	}
	// WithClock(nil) keeps the real clock; a fresh token verifies.
	if _, err := iss.Verifier(license.WithClock(nil)).Verify(iss.Mint()); err != nil {
		t.Errorf("WithClock(nil): %v", err)
	}
	// The default clock is time.Now: a token minted now verifies, one that
	// expired two minutes ago does not.
	if _, err := iss.Verifier().Verify(iss.Mint(licensetest.ExpiresIn(-2 * time.Minute))); !errors.Is(err, license.ErrExpired) {
		t.Errorf("expired two minutes ago: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestVerifyIssuerAudience(t *testing.T) {
	iss := vtIssuer()
	tok := iss.Mint(licensetest.Audience("Acme Health GmbH", "Acme Labs"))
	for _, tc := range []struct {
		name string
		opts []license.Option
		want *license.Error
	}{
		{"no expectations", nil, nil},
		{"issuer matches", []license.Option{license.WithIssuer("acme")}, nil},
		{"issuer differs", []license.Option{license.WithIssuer("acme2")}, license.ErrClaims},
		{"empty issuer means unchecked", []license.Option{license.WithIssuer("")}, nil},
		{"first audience", []license.Option{license.WithAudience("Acme Health GmbH")}, nil},
		{"second audience", []license.Option{license.WithAudience("Acme Labs")}, nil},
		{"audience absent from the array", []license.Option{license.WithAudience("Acme")}, license.ErrClaims},
		{"both match", []license.Option{license.WithIssuer("acme"), license.WithAudience("Acme Labs")}, nil},
		{"last option wins", []license.Option{license.WithIssuer("other"), license.WithIssuer("acme")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := license.NewVerifier(iss.Keyring(), tc.opts...).Verify(tok)
			fxWantSentinel(t, err, tc.want)
		})
	}
}

func TestVerifyFingerprint(t *testing.T) {
	iss := vtIssuer()
	calls := 0
	match := func(recorded string) bool { calls++; return recorded == "fp_this" }
	v := iss.Verifier(license.WithFingerprint(match))
	for _, tc := range []struct {
		name      string
		opts      []licensetest.MintOption
		want      *license.Error
		wantCalls int
	}{
		{"bound here", []licensetest.MintOption{licensetest.Fingerprint("fp_this")}, nil, 1},
		{"bound elsewhere", []licensetest.MintOption{licensetest.Fingerprint("fp_other")}, license.ErrFingerprint, 1},
		{"unbound", nil, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls = 0
			lic, err := v.Verify(iss.Mint(tc.opts...))
			fxWantSentinel(t, err, tc.want)
			if calls != tc.wantCalls {
				t.Errorf("matcher called %d times, want %d", calls, tc.wantCalls)
			}
			if err == nil && tc.wantCalls == 1 && lic.Fingerprint != "fp_this" {
				t.Errorf("Fingerprint = %q", lic.Fingerprint)
			}
		})
	}
	// Without WithFingerprint, fpr is reported, not checked.
	lic, err := iss.Verifier().Verify(iss.Mint(licensetest.Fingerprint("fp_other")))
	if err != nil || lic.Fingerprint != "fp_other" {
		t.Errorf("unchecked fpr: %v, %+v", err, lic)
	}
}

func TestVerifyLease(t *testing.T) {
	iss := vtIssuer()
	at := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, status := range []string{license.LeaseActive, license.LeaseSuspended, license.LeaseRevoked} {
		for _, k := range iss.Keys()[:len(vtAlgs)] {
			t.Run(status+"/"+k.Alg, func(t *testing.T) {
				tok := iss.MintLease(licensetest.SignWith(k.KID), licensetest.ID("lse_1"), licensetest.Subject("lic_full"),
					licensetest.Fingerprint("fp_this"), licensetest.Status(status),
					licensetest.IssuedAt(at), licensetest.ExpiresAt(at.Add(14*24*time.Hour)))
				// Leases are judged on time by package grace, not here: a
				// verifier whose clock is far past exp still returns it.
				v := iss.Verifier(license.WithFingerprint(fxThisMachine), license.WithClock(func() time.Time { return at.AddDate(5, 0, 0) }))
				l, err := v.VerifyLease(tok)
				if err != nil {
					t.Fatal(err)
				}
				want := license.Lease{ID: "lse_1", LicenseID: "lic_full", Issuer: "acme", Fingerprint: "fp_this",
					Status: status, IssuedAt: at, ExpiresAt: at.Add(14 * 24 * time.Hour)}
				if *l != want {
					t.Errorf("lease\n got %+v\nwant %+v", *l, want)
				}
			})
		}
	}
	t.Run("typ compared case-insensitively", func(t *testing.T) {
		if _, err := iss.Verifier().VerifyLease(iss.MintLease(licensetest.Type("LEASE+JWT"))); err != nil {
			t.Error(err)
		}
	})
	t.Run("another machine", func(t *testing.T) {
		_, err := iss.Verifier(license.WithFingerprint(fxThisMachine)).VerifyLease(iss.MintLease(licensetest.Fingerprint("fp_other")))
		fxWantSentinel(t, err, license.ErrFingerprint)
	})
	t.Run("licence as lease, lease as licence", func(t *testing.T) {
		v := iss.Verifier()
		_, err := v.VerifyLease(iss.Mint())
		fxWantSentinel(t, err, license.ErrMalformed)
		_, err = v.Verify(iss.MintLease())
		fxWantSentinel(t, err, license.ErrMalformed)
	})
}

// TestVerifyTyp: typ is "JWT" or absent; media types compare
// case-insensitively (RFC 7515 §4.1.9), and an empty typ reads as absent.
func TestVerifyTyp(t *testing.T) {
	iss := vtIssuer()
	v := iss.Verifier()
	for _, tc := range []struct {
		name string
		opt  licensetest.MintOption
		want *license.Error
	}{
		{"JWT", licensetest.Type("JWT"), nil},
		{"jwt", licensetest.Type("jwt"), nil},
		{"absent", licensetest.OmitHeader("typ"), nil},
		{"empty", licensetest.Type(""), nil},
		{"lease+jwt", licensetest.Type(license.TypeLease), license.ErrMalformed},
		{"application/jwt", licensetest.Type("application/jwt"), license.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(iss.Mint(tc.opt))
			fxWantSentinel(t, err, tc.want)
		})
	}
}

// TestVerifyECDSAMalleability: (r, n−s) is a second valid signature of the
// same message (the format says so), so a licence's identity is jti + iss,
// never the token's bytes: both tokens give the same licence.
func TestVerifyECDSAMalleability(t *testing.T) {
	iss := vtIssuer()
	k := iss.Keys()[1]
	if k.Alg != license.ES256 {
		t.Fatalf("key 1 is %s", k.Alg)
	}
	tok := iss.Mint(licensetest.SignWith(k.KID), licensetest.IssuedAt(vtIat), licensetest.ExpiresAt(vtExp))
	h, p, s := fxSplit(tok)
	sig := fxUnb64(s)
	n := elliptic.P256().Params().N
	hi := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:]))
	twin := h + "." + p + "." + fxB64(append(sig[:32:32], hi.FillBytes(make([]byte, 32))...))
	if twin == tok {
		t.Fatal("twin equals the token")
	}
	v := iss.Verifier(license.WithClock(vtClock))
	a, errA := v.Verify(tok)
	b, errB := v.Verify(twin)
	if errA != nil || errB != nil {
		t.Fatalf("original: %v; twin: %v", errA, errB)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("twin licence differs: %+v vs %+v", a, b)
	}
}

// TestVerifyFreshLicence: every call returns its own licence, so a caller
// editing one cannot change what the next call sees.
func TestVerifyFreshLicence(t *testing.T) {
	iss := vtIssuer()
	v := iss.Verifier(license.WithClock(vtClock))
	tok := iss.Mint(vtFull()...)
	a, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	a.Capabilities[0] = "admin"
	a.Metadata["seats"] = "9999"
	a.Audience[0] = "Mallory"
	b, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*b, vtFullLicense) {
		t.Errorf("second verify sees the first caller's edits: %+v", *b)
	}
}

// TestVerifyConcurrent: one Verifier, many goroutines, every algorithm
// (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	iss := vtIssuer()
	v := iss.Verifier(license.WithClock(vtClock))
	var toks []string
	for _, k := range iss.Keys() {
		toks = append(toks, iss.Mint(append(vtFull(), licensetest.SignWith(k.KID))...))
	}
	bad := toks[0][:len(toks[0])-4] + "AAAA"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				tok := toks[(g+i)%len(toks)]
				if lic, err := v.Verify(tok); err != nil || lic.ID != "lic_full" {
					errs <- fmt.Errorf("goroutine %d: %v", g, err)
					return
				}
				if _, err := v.Verify(bad); !errors.Is(err, license.ErrSignature) {
					errs <- fmt.Errorf("goroutine %d: tampered token: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  *license.Error
		code string
	}{
		{license.ErrMalformed, "MALFORMED"},
		{license.ErrAlgorithm, "BAD_ALGORITHM"},
		{license.ErrUnknownKey, "UNKNOWN_KEY"},
		{license.ErrSignature, "INVALID_SIGNATURE"},
		{license.ErrExpired, "EXPIRED"},
		{license.ErrNotYetValid, "NOT_YET_VALID"},
		{license.ErrClaims, "INVALID_CLAIMS"},
		{license.ErrFingerprint, "FINGERPRINT_MISMATCH"},
		{license.ErrKeyFile, "INVALID_KEY_FILE"},
		{license.ErrRevoked, "REVOKED"},
		{license.ErrSuspended, "SUSPENDED"},
		{license.ErrGraceExpired, "GRACE_EXPIRED"},
		{license.ErrClockTampered, "CLOCK_TAMPERED"},
		{license.ErrNotActivated, "NOT_ACTIVATED"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			if got := license.Code(tc.err); got != tc.code {
				t.Errorf("Code(sentinel) = %q", got)
			}
			if got := tc.err.Code(); got != tc.code {
				t.Errorf("sentinel.Code() = %q", got)
			}
			wrapped := fmt.Errorf("product: start-up: %w", fmt.Errorf("layer: %w", tc.err))
			if got := license.Code(wrapped); got != tc.code || !errors.Is(wrapped, tc.err) {
				t.Errorf("Code(wrapped twice) = %q", got)
			}
			if got := license.Code(errors.Join(errors.New("other"), tc.err)); got != tc.code {
				t.Errorf("Code(errors.Join) = %q", got)
			}
			if msg := tc.err.Error(); len(msg) < len("license: x") || msg[:9] != "license: " {
				t.Errorf("Error() = %q, want the package prefix", msg)
			}
		})
	}
	if len(fxSentinels) != 14 {
		t.Errorf("fxSentinels lists %d sentinels", len(fxSentinels))
	}
	seen := map[string]bool{}
	for _, s := range fxSentinels {
		if seen[s.Code()] {
			t.Errorf("code %s used twice", s.Code())
		}
		seen[s.Code()] = true
	}
	if license.Code(nil) != "" || license.Code(errors.New("license: expired")) != "" {
		t.Error("Code of nil or of a look-alike error is not empty")
	}
	// Errors from Verify carry their code.
	_, err := vtIssuer().Verifier().Verify("not a token")
	if license.Code(err) != "MALFORMED" {
		t.Errorf("Code(Verify error) = %q", license.Code(err))
	}
}
