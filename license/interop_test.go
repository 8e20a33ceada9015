package license_test

// Interop with an independent JOSE implementation: panva/jose 6.2.18 (npm
// "jose", run on Node v20) minted every key, token, lease and key file in
// testdata/interop (generate.mjs there; how to rerun it is in its README).
// The fixtures are committed once and never regenerated in CI: a rerun makes
// new keys, and ECDSA and PSS signatures are randomised anyway.
//
// Keys: one per algorithm (EdDSA/Ed25519, ES256, ES384, RS256 and PS256 on
// RSA-2048), as a JWKS (kid = jose's RFC 7638 SHA-256 thumbprint, alg, use
// "sig") and as a PEM SPKI bundle. Keyrings built from them: "jwks", "pem",
// "jwks-nokid" (the JWKS without kid members, so ParseKeyring computes the
// thumbprints, as it does for PEM) and "single-<alg>" (one JWK). Every
// ring's kids must equal jose's thumbprints.
//
// Each case is verified at 2026-11-24T00:00:00Z with WithIssuer("interop-
// vendor"); licences with Verify, leases with VerifyLease, key files with
// ParseKeyFile + VerifyKeyFile. Accepted cases must map every claim as the
// generator recorded it; refused ones must carry the generator's code, both
// by license.Code and by errors.Is.
//
//	accepted                                                          69
//	  licence tokens, 5 algs × {jwks, pem, jwks-nokid} × aud {string, array}
//	  (less PS256 with pem), nbf, no typ, no kid (single-key ring),
//	  typ "jwt", Unicode and escapes, whitespace around the claims JSON,
//	  a flattened JWS reassembled as compact; leases per alg on jwks and
//	  pem (less PS256 with pem) and one suspended; key files per alg on
//	  jwks and pem (less PS256 with pem), one falling back to secondary,
//	  one with only a secondary, one with aud "x" in the file and ["x"]
//	  in the token
//	refused                                                           60
//	  MALFORMED          19  alg none, cty, jku, x5u, embedded attacker jwk,
//	                         b64:false+crit (its signature verifies: see
//	                         TestInteropUnencodedPayload), numeric kid, typ
//	                         at+jwt, typ application/jwt, flattened
//	                         and general JSON, nested JWT with and without cty,
//	                         duplicate exp, duplicate nested metadata member,
//	                         claims an array, oversized, lease ⇄ licence
//	  BAD_ALGORITHM      13  HS256 keyed with a ring key's PEM (4), alg not
//	                         fitting the kid's key (5), PS256 against the PEM
//	                         keyring (licence ×2, lease, key file: see below)
//	  INVALID_CLAIMS     13  exp string, exp fractional, exp/iat/tid missing,
//	                         capabilities string, metadata number, aud [],
//	                         iat > exp, exp in 9999, wrong issuer, lease
//	                         without fpr, lease status "paused"
//	  INVALID_SIGNATURE   8  a foreign key under a ring key's kid (5 algs,
//	                         no-kid single ring, lease, key file)
//	  NOT_YET_VALID       2  nbf and iat in 2028
//	  UNKNOWN_KEY         2  unknown kid; no kid with a five-key ring
//	  INVALID_KEY_FILE    2  aud differs from the token's; primary token
//	                         claims the secondary slot
//	  EXPIRED             1  exp 2020
//
// Deliberate divergences from what jose (or RFC 7519) would accept:
//   - A PEM key carries no algorithm, and ParseKeyring pins a PEM RSA key to
//     RS256 (keyring.go), so jose's PS256 tokens verify only
//     against the JWKS, whose "alg": "PS256" pins the key to PS256. Against
//     the PEM ring they are BAD_ALGORITHM.
//   - A fractional NumericDate (exp 4102444800.5) is legal in RFC 7519 but
//     the format requires an integer: INVALID_CLAIMS.
//   - typ is compared ASCII-case-insensitively (RFC 7515 §4.1.9), so typ
//     "jwt" is accepted; but "application/jwt", which RFC 7515 §4.1.9 lets
//     stand for "JWT", is refused: our format allows "JWT" or no typ.
//
// The counts are asserted (interopWant): a changed fixture or verifier
// fails the test until this table is brought along.

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
)

const (
	interopDir         = "testdata/interop"
	interopJoseVersion = "6.2.18"
	interopIssuer      = "interop-vendor"
)

var interopClock = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// interopWant is the asserted outcome table: "" counts accepted cases.
var interopWant = map[string]int{
	"":                  69,
	"MALFORMED":         19,
	"BAD_ALGORITHM":     13,
	"INVALID_CLAIMS":    13,
	"INVALID_SIGNATURE": 8,
	"NOT_YET_VALID":     2,
	"UNKNOWN_KEY":       2,
	"INVALID_KEY_FILE":  2,
	"EXPIRED":           1,
}

var interopSentinels = map[string]error{
	"MALFORMED":         license.ErrMalformed,
	"BAD_ALGORITHM":     license.ErrAlgorithm,
	"UNKNOWN_KEY":       license.ErrUnknownKey,
	"INVALID_SIGNATURE": license.ErrSignature,
	"EXPIRED":           license.ErrExpired,
	"NOT_YET_VALID":     license.ErrNotYetValid,
	"INVALID_CLAIMS":    license.ErrClaims,
	"INVALID_KEY_FILE":  license.ErrKeyFile,
}

type interopFixtures struct {
	Jose   string        `json:"jose"`
	Clock  string        `json:"clock"`
	Issuer string        `json:"issuer"`
	Cases  []interopCase `json:"cases"`
}

type interopCase struct {
	Name    string          `json:"name"`
	Kind    string          `json:"kind"` // license, lease, keyfile: which call verifies it
	Keyring string          `json:"keyring"`
	Want    string          `json:"want"`
	Token   string          `json:"token"`
	Keyfile string          `json:"keyfile"`
	Expect  json.RawMessage `json:"expect"`
}

// interopLicence is what the generator put into a licence token (and, for
// key files, which slot must carry it).
type interopLicence struct {
	JTI          string            `json:"jti"`
	Iss          string            `json:"iss"`
	Sub          string            `json:"sub"`
	Aud          []string          `json:"aud"`
	Tid          string            `json:"tid"`
	TenantCtry   string            `json:"tenant_ctry"`
	Plan         string            `json:"plan"`
	Capabilities []string          `json:"capabilities"`
	Metadata     map[string]string `json:"metadata"`
	Fpr          string            `json:"fpr"`
	Iat          int64             `json:"iat"`
	Nbf          int64             `json:"nbf"`
	Exp          int64             `json:"exp"`
	Slot         string            `json:"slot"`
}

type interopLease struct {
	JTI    string `json:"jti"`
	Sub    string `json:"sub"`
	Iss    string `json:"iss"`
	Fpr    string `json:"fpr"`
	Status string `json:"status"`
	Iat    int64  `json:"iat"`
	Exp    int64  `json:"exp"`
}

func interopRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interopDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func interopLoad(t *testing.T) *interopFixtures {
	t.Helper()
	var f interopFixtures
	if err := json.Unmarshal(interopRead(t, "tokens.json"), &f); err != nil {
		t.Fatalf("tokens.json: %v", err)
	}
	if f.Jose != interopJoseVersion {
		t.Fatalf("fixtures made with jose %s, header comment says %s: update the comment", f.Jose, interopJoseVersion)
	}
	if f.Issuer != interopIssuer || f.Clock != interopClock.Format(time.RFC3339) {
		t.Fatalf("fixtures for issuer %q at %s, test uses %q at %s", f.Issuer, f.Clock, interopIssuer, interopClock.Format(time.RFC3339))
	}
	return &f
}

// interopJWKs returns the JWKs of jwks.json as generic objects.
func interopJWKs(t *testing.T) []map[string]any {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(interopRead(t, "jwks.json"), &set); err != nil {
		t.Fatalf("jwks.json: %v", err)
	}
	if len(set.Keys) != 5 {
		t.Fatalf("jwks.json has %d keys, want 5", len(set.Keys))
	}
	return set.Keys
}

func interopMarshalRing(t *testing.T, keys []map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// interopKeyrings builds every keyring the cases name.
func interopKeyrings(t *testing.T) map[string]*license.Keyring {
	t.Helper()
	jwks := interopJWKs(t)
	src := map[string][]byte{
		"jwks": interopRead(t, "jwks.json"),
		"pem":  interopRead(t, "keys.pem"),
	}
	var nokid []map[string]any
	for _, k := range jwks {
		alg, _ := k["alg"].(string)
		src["single-"+alg] = interopMarshalRing(t, []map[string]any{k})
		c := maps.Clone(k)
		delete(c, "kid")
		nokid = append(nokid, c)
	}
	src["jwks-nokid"] = interopMarshalRing(t, nokid)

	rings := map[string]*license.Keyring{}
	for name, b := range src {
		kr, err := license.ParseKeyring(b)
		if err != nil {
			t.Fatalf("keyring %s: %v", name, err)
		}
		rings[name] = kr
	}
	return rings
}

// TestInteropKeyrings checks that both encodings of jose's keys load, that
// our thumbprints equal jose's calculateJwkThumbprint, and how each key is
// pinned.
func TestInteropKeyrings(t *testing.T) {
	jwks := interopJWKs(t)
	rings := interopKeyrings(t)
	var joseKids []string
	for _, k := range jwks {
		joseKids = append(joseKids, k["kid"].(string))
	}
	for _, name := range []string{"jwks", "pem", "jwks-nokid"} {
		if got := rings[name].KeyIDs(); !slices.Equal(got, joseKids) {
			t.Errorf("keyring %s: kids %q, want jose's thumbprints %q", name, got, joseKids)
		}
	}
	for _, k := range jwks {
		kid, alg := k["kid"].(string), k["alg"].(string)
		if got := rings["jwks"].Algorithm(kid); got != alg {
			t.Errorf("jwks: key %s (%s) pinned to %q", kid, alg, got)
		}
		if got := rings["jwks-nokid"].Algorithm(kid); got != alg {
			t.Errorf("jwks-nokid: key %s (%s) pinned to %q", kid, alg, got)
		}
		// PEM carries no alg: an RSA key is pinned to RS256, even jose's PS256 key.
		wantPEM := alg
		if alg == license.PS256 {
			wantPEM = license.RS256
		}
		if got := rings["pem"].Algorithm(kid); got != wantPEM {
			t.Errorf("pem: key %s (%s) pinned to %q, want %q", kid, alg, got, wantPEM)
		}
		single := rings["single-"+alg]
		if single == nil || single.Len() != 1 || single.Algorithm(kid) != alg {
			t.Errorf("single-%s keyring does not hold just key %s", alg, kid)
		}
	}
}

func TestInteropJose(t *testing.T) {
	f := interopLoad(t)
	rings := interopKeyrings(t)
	verifiers := map[string]*license.Verifier{}
	for name, kr := range rings {
		verifiers[name] = license.NewVerifier(kr,
			license.WithIssuer(interopIssuer),
			license.WithClock(func() time.Time { return interopClock }))
	}

	got := map[string]int{}
	// Accepted licence tokens per alg and keyring kind, and the code of PS256 with pem.
	acceptedBy := map[string]bool{}
	names := map[string]bool{}
	for _, c := range f.Cases {
		if names[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		v := verifiers[c.Keyring]
		if v == nil {
			t.Errorf("%s: unknown keyring %q", c.Name, c.Keyring)
			continue
		}
		got[c.Want]++
		t.Run(c.Name, func(t *testing.T) {
			var err error
			switch c.Kind {
			case "license":
				var lic *license.License
				lic, err = v.Verify(c.Token)
				if err == nil {
					interopCheckLicence(t, c, lic, "")
				} else if lic != nil {
					t.Errorf("refused token returned a licence")
				}
				if c.Want == "" && err == nil {
					acceptedBy[interopHeaderAlg(t, c.Token)+"/"+c.Keyring] = true
				}
			case "lease":
				var l *license.Lease
				l, err = v.VerifyLease(c.Token)
				if err == nil {
					interopCheckLease(t, c, l)
				} else if l != nil {
					t.Errorf("refused lease returned a lease")
				}
			case "keyfile":
				var kf *license.KeyFile
				kf, err = license.ParseKeyFile([]byte(c.Keyfile))
				if err == nil {
					var lic *license.License
					lic, err = v.VerifyKeyFile(kf)
					if err == nil {
						interopCheckLicence(t, c, lic, "keyfile")
					}
				}
			default:
				t.Fatalf("unknown kind %q", c.Kind)
			}
			switch {
			case c.Want == "" && err != nil:
				t.Errorf("jose %s refused (%s): %v", c.Kind, license.Code(err), err)
			case c.Want != "" && err == nil:
				t.Errorf("hostile jose %s accepted, want %s", c.Kind, c.Want)
			case c.Want != "":
				if code := license.Code(err); code != c.Want {
					t.Errorf("code %s, want %s: %v", code, c.Want, err)
				}
				if s := interopSentinels[c.Want]; s == nil || !errors.Is(err, s) {
					t.Errorf("errors.Is(err, %s sentinel) is false: %v", c.Want, err)
				}
			}
		})
	}

	// Every algorithm verifies from both the JWKS and the PEM keyring,
	// except PS256 from PEM, which must be refused as BAD_ALGORITHM.
	for _, alg := range []string{license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256} {
		for _, ring := range []string{"jwks", "pem", "jwks-nokid", "single-" + alg} {
			want := !(alg == license.PS256 && ring == "pem")
			if acceptedBy[alg+"/"+ring] != want {
				t.Errorf("%s tokens accepted with keyring %s: %v, want %v", alg, ring, acceptedBy[alg+"/"+ring], want)
			}
		}
	}
	for _, n := range []string{"licence/PS256/pem/aud-string", "licence/PS256/pem/aud-array", "lease/PS256/pem", "keyfile/PS256/pem"} {
		if !names[n] {
			t.Errorf("case %s (the documented PS256/PEM divergence) is missing", n)
		}
	}
	if !maps.Equal(got, interopWant) {
		t.Errorf("outcome counts %v, want %v (update interopWant and the header table)", got, interopWant)
	}
}

func interopHeaderAlg(t *testing.T, token string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Alg
}

func interopDate(t *testing.T, field string, got time.Time, want int64) {
	t.Helper()
	if want == 0 {
		if !got.IsZero() {
			t.Errorf("%s = %v, want zero", field, got)
		}
		return
	}
	if !got.Equal(time.Unix(want, 0)) {
		t.Errorf("%s = %v, want %v", field, got, time.Unix(want, 0).UTC())
	}
}

func interopCheckLicence(t *testing.T, c interopCase, lic *license.License, kind string) {
	t.Helper()
	if c.Want != "" {
		return
	}
	var e interopLicence
	if err := json.Unmarshal(c.Expect, &e); err != nil || e.JTI == "" {
		t.Fatalf("case has no licence expectation: %v", err)
	}
	if kind != "keyfile" && e.Slot != "" {
		t.Fatalf("slot expectation on a bare licence")
	}
	check := func(field, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	check("ID", lic.ID, e.JTI)
	check("Issuer", lic.Issuer, e.Iss)
	check("Subject", lic.Subject, e.Sub)
	check("TenantID", lic.TenantID, e.Tid)
	check("TenantCountry", lic.TenantCountry, e.TenantCtry)
	check("Plan", lic.Plan, e.Plan)
	check("Fingerprint", lic.Fingerprint, e.Fpr)
	check("Slot", lic.Slot, e.Slot)
	if !slices.Equal(lic.Audience, e.Aud) {
		t.Errorf("Audience = %q, want %q", lic.Audience, e.Aud)
	}
	if !slices.Equal(lic.Capabilities, e.Capabilities) {
		t.Errorf("Capabilities = %q, want %q", lic.Capabilities, e.Capabilities)
	}
	for _, cp := range e.Capabilities {
		if !lic.Has(cp) {
			t.Errorf("Has(%q) = false", cp)
		}
	}
	if lic.Has("kyc:admin") {
		t.Errorf("Has(kyc:admin) = true")
	}
	if !maps.Equal(lic.Metadata, e.Metadata) {
		t.Errorf("Metadata = %q, want %q", lic.Metadata, e.Metadata)
	}
	interopDate(t, "IssuedAt", lic.IssuedAt, e.Iat)
	interopDate(t, "NotBefore", lic.NotBefore, e.Nbf)
	interopDate(t, "ExpiresAt", lic.ExpiresAt, e.Exp)
}

func interopCheckLease(t *testing.T, c interopCase, l *license.Lease) {
	t.Helper()
	if c.Want != "" {
		return
	}
	var e interopLease
	if err := json.Unmarshal(c.Expect, &e); err != nil || e.JTI == "" {
		t.Fatalf("case has no lease expectation: %v", err)
	}
	if l.ID != e.JTI || l.LicenseID != e.Sub || l.Issuer != e.Iss || l.Fingerprint != e.Fpr || l.Status != e.Status {
		t.Errorf("lease = {ID %q LicenseID %q Issuer %q Fingerprint %q Status %q}, want %+v",
			l.ID, l.LicenseID, l.Issuer, l.Fingerprint, l.Status, e)
	}
	interopDate(t, "IssuedAt", l.IssuedAt, e.Iat)
	interopDate(t, "ExpiresAt", l.ExpiresAt, e.Exp)
}

// TestInteropUnencodedPayload shows that the b64:false token is refused for
// its header alone: jose signed protected.payload exactly as for an encoded
// payload, so the Ed25519 signature verifies over what Verify checks.
func TestInteropUnencodedPayload(t *testing.T) {
	f := interopLoad(t)
	var token string
	for _, c := range f.Cases {
		if c.Name == "header-crit-b64-false" {
			token = c.Token
		}
	}
	if token == "" {
		t.Fatal("case header-crit-b64-false is missing")
	}
	var x string
	for _, k := range interopJWKs(t) {
		if k["alg"] == license.EdDSA {
			x, _ = k["x"].(string)
		}
	}
	pub, err := base64.RawURLEncoding.DecodeString(x)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		t.Fatalf("EdDSA JWK x: %v", err)
	}
	dot := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[dot+1:])
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte(token[:dot]), sig) {
		t.Fatal("the b64:false token's signature does not verify over protected.payload")
	}
}
