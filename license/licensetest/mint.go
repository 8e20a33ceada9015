package licensetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/licensekit/licensekit/license"
)

// Defaults of minted tokens. Times are whole seconds from [time.Now] at
// minting.
const (
	DefaultSubject     = "sub_test"      // sub of a licence
	DefaultAudience    = "Test Customer" // aud of a licence, as a one-element array
	DefaultTenant      = "ten_test"      // tid of a licence
	DefaultPlan        = "yearly"        // plan of a licence
	DefaultLicenseID   = "lic_test"      // sub of a lease: the licence it belongs to
	DefaultFingerprint = "fpr_test"      // fpr of a lease

	DefaultValidity      = 365 * 24 * time.Hour // exp − iat of a licence
	DefaultLeaseValidity = 14 * 24 * time.Hour  // exp − iat of a lease: the grace window
)

// MintOption changes one part of a token minted by [Issuer.Mint],
// [Issuer.MintLease] or [Tokens]. Options apply in the order given, so a
// later option overrides an earlier one on the same claim or header member.
type MintOption func(*minting)

// minting is the token under construction.
type minting struct {
	now     time.Time
	kid     string
	claims  map[string]any
	touched map[string]bool // claims an option set or removed
	header  []headerEdit
}

type headerEdit struct {
	name  string
	value any
	omit  bool
}

func (m *minting) set(name string, v any) {
	m.claims[name] = v
	m.touched[name] = true
}

// Subject sets sub: the subscription id of a licence, or the licence id
// (jti) a lease belongs to.
func Subject(sub string) MintOption { return func(m *minting) { m.set("sub", sub) } }

// Audience sets aud to a JSON array of the given values, even for one
// value or none (an empty array). See [AudienceString] for the string form.
func Audience(aud ...string) MintOption {
	a := append([]string{}, aud...)
	return func(m *minting) { m.set("aud", a) }
}

// AudienceString sets aud to a single JSON string, the other form RFC 7519
// allows.
func AudienceString(aud string) MintOption { return func(m *minting) { m.set("aud", aud) } }

// ID sets jti, the token's own id (default "lic_" or "lse_" and 24 random
// hex digits).
func ID(jti string) MintOption { return func(m *minting) { m.set("jti", jti) } }

// Tenant sets tid, the tenant id.
func Tenant(tid string) MintOption { return func(m *minting) { m.set("tid", tid) } }

// Country sets tenant_ctry, the tenant's ISO 3166-1 alpha-2 country code.
func Country(cc string) MintOption { return func(m *minting) { m.set("tenant_ctry", cc) } }

// Plan sets plan: "monthly", "yearly", "community", "custom" — or anything
// else, to test that it is refused. It does not change exp.
func Plan(p string) MintOption { return func(m *minting) { m.set("plan", p) } }

// Slot sets slot, the key-file slot ("primary" or "secondary") the token
// claims to belong to.
func Slot(s string) MintOption { return func(m *minting) { m.set("slot", s) } }

// Capabilities sets capabilities to a JSON array of the given values (an
// empty array when none are given).
func Capabilities(c ...string) MintOption {
	caps := append([]string{}, c...)
	return func(m *minting) { m.set("capabilities", caps) }
}

// Metadata sets metadata to a JSON object with a copy of md ({} when md is
// empty or nil).
func Metadata(md map[string]string) MintOption {
	cp := make(map[string]string, len(md))
	for k, v := range md {
		cp[k] = v
	}
	return func(m *minting) { m.set("metadata", cp) }
}

// Fingerprint sets fpr, the machine fingerprint the token is bound to.
func Fingerprint(fpr string) MintOption { return func(m *minting) { m.set("fpr", fpr) } }

// Status sets status, the state a lease reports: "active", "suspended" or
// "revoked".
func Status(s string) MintOption { return func(m *minting) { m.set("status", s) } }

// IssuedAt sets iat to t, in whole seconds.
func IssuedAt(t time.Time) MintOption { return func(m *minting) { m.set("iat", t.Unix()) } }

// ExpiresAt sets exp to t, in whole seconds. See [ExpiresIn] for how iat
// follows an exp in the past.
func ExpiresAt(t time.Time) MintOption { return func(m *minting) { m.set("exp", t.Unix()) } }

// ExpiresIn sets exp to d after the minting time (not after [IssuedAt]).
// A negative d mints an already expired token. When exp ends up before the
// minting time and no option set iat, iat moves to exp minus the default
// validity ([DefaultValidity], or [DefaultLeaseValidity] for a lease), so
// the token is expired but otherwise well-formed (iat ≤ exp).
func ExpiresIn(d time.Duration) MintOption {
	return func(m *minting) { m.set("exp", m.now.Add(d).Unix()) }
}

// NotBefore sets nbf to t, in whole seconds (absent by default).
func NotBefore(t time.Time) MintOption { return func(m *minting) { m.set("nbf", t.Unix()) } }

// Claim sets the claim name to value, encoded with encoding/json: any JSON
// value, of the right type or not ("exp" as a string, "aud" as a number,
// nil for null). A [json.RawMessage] is inserted as written (compacted),
// for values such as 1e400. A [time.Time] encodes as an RFC 3339 string,
// not a NumericDate; use [IssuedAt] and its siblings, or an int64, for that.
func Claim(name string, value any) MintOption { return func(m *minting) { m.set(name, value) } }

// Omit removes the named claims, e.g. Omit("exp") for a token that never
// expires, which a verifier must refuse.
func Omit(names ...string) MintOption {
	return func(m *minting) {
		for _, n := range names {
			delete(m.claims, n)
			m.touched[n] = true
		}
	}
}

// Header sets the protected header member name to value, overriding the
// defaults (alg and kid of the signing key, typ): for example
// Header("alg", "RS256") on an Ed25519 key, Header("kid", "nope"), or a
// member a verifier must refuse, such as Header("jwk", …) or
// Header("crit", []string{"exp"}). The signature is always made with the
// signing key's own algorithm, whatever alg says.
func Header(name string, value any) MintOption {
	return func(m *minting) { m.header = append(m.header, headerEdit{name: name, value: value}) }
}

// OmitHeader removes the named protected header members, e.g.
// OmitHeader("kid") or OmitHeader("typ").
func OmitHeader(names ...string) MintOption {
	return func(m *minting) {
		for _, n := range names {
			m.header = append(m.header, headerEdit{name: n, omit: true})
		}
	}
}

// Type sets the typ header ("JWT" for a licence, "lease+jwt" for a lease by
// default). Type("") sets an empty typ; use [OmitHeader]("typ") to drop it.
func Type(typ string) MintOption { return Header("typ", typ) }

// SignWith picks the issuer key, by kid, that signs the token (default: the
// first key). An unknown kid fails the test; to name a key the issuer does
// not have, use Header("kid", …).
func SignWith(kid string) MintOption { return func(m *minting) { m.kid = kid } }

// tokenKind selects the defaults of a token.
type tokenKind int

const (
	kindLicense tokenKind = iota
	kindLease
)

// Mint returns a new licence token, as a control plane issues it for a key
// file slot (but with no slot claim unless [Slot] sets one), signed now.
// Defaults:
//
//	header: {"alg": key's alg, "kid": key's kid, "typ": "JWT"}
//	claims: iss  issuer name             sub  "sub_test"
//	        aud  ["Test Customer"]       jti  "lic_" + 24 random hex digits
//	        tid  "ten_test"              plan "yearly"
//	        iat  time.Now()              exp  iat + 365 days
//
// nbf, tenant_ctry, slot, capabilities, metadata and fpr are absent unless
// an option sets them. Claims are encoded with encoding/json in
// alphabetical order. Failures (an unknown kid, a value that cannot be
// encoded) fail the test.
func (i *Issuer) Mint(opts ...MintOption) string {
	i.t.Helper()
	return i.mint(time.Now(), kindLicense, opts)
}

// MintLease returns a new lease, as a control plane answers a heartbeat
// with, signed now. Defaults:
//
//	header: {"alg": key's alg, "kid": key's kid, "typ": "lease+jwt"}
//	claims: iss    issuer name           sub  "lic_test" (the licence's jti)
//	        jti    "lse_" + 24 random hex digits
//	        fpr    "fpr_test"            status "active"
//	        iat    time.Now()            exp  iat + 14 days
//
// Every [MintOption] applies, e.g. Subject(licenceID), Fingerprint(fp),
// ExpiresIn(time.Hour) or Status("revoked").
func (i *Issuer) MintLease(opts ...MintOption) string {
	i.t.Helper()
	return i.mint(time.Now(), kindLease, opts)
}

func (i *Issuer) mint(now time.Time, kind tokenKind, opts []MintOption) string {
	i.t.Helper()
	now = now.Truncate(time.Second)
	iat := now.Unix()
	m := &minting{now: now, touched: map[string]bool{}}
	typ, validity := "JWT", DefaultValidity
	if kind == kindLicense {
		m.claims = map[string]any{
			"iss":  i.name,
			"sub":  DefaultSubject,
			"aud":  []string{DefaultAudience},
			"jti":  "lic_" + randomHex(12),
			"tid":  DefaultTenant,
			"iat":  iat,
			"exp":  now.Add(validity).Unix(),
			"plan": DefaultPlan,
		}
	} else {
		typ, validity = license.TypeLease, DefaultLeaseValidity
		m.claims = map[string]any{
			"iss":    i.name,
			"sub":    DefaultLicenseID,
			"jti":    "lse_" + randomHex(12),
			"fpr":    DefaultFingerprint,
			"status": license.LeaseActive,
			"iat":    iat,
			"exp":    now.Add(validity).Unix(),
		}
	}
	for _, o := range opts {
		o(m)
	}
	if exp, ok := m.claims["exp"].(int64); ok && exp < iat && !m.touched["iat"] {
		m.claims["iat"] = exp - int64(validity/time.Second)
	}

	n := 0
	if m.kid != "" {
		n = i.index(m.kid)
	}
	k := i.keys[n]
	header := map[string]any{"alg": k.Alg, "kid": k.KID, "typ": typ}
	for _, e := range m.header {
		if e.omit {
			delete(header, e.name)
		} else {
			header[e.name] = e.value
		}
	}
	payload, err := json.Marshal(m.claims)
	if err != nil {
		i.fatalf("licensetest: encoding claims: %v", err)
	}
	tok, err := i.sign(n, header, payload)
	if err != nil {
		i.fatalf("licensetest: signing with %s key %q: %v", k.Alg, k.KID, err)
	}
	if kind == kindLicense {
		jti, _ := m.claims["jti"].(string)
		i.book.record(jti, tok)
	}
	return tok
}

// sign makes a compact JWS with exactly the given protected header,
// signed by key n through package mint: [mint.Signer.SignCompact] when the
// header names that key's alg and kid, and otherwise (a header without
// them, or naming another key or algorithm, as hostile tests need) the
// header's JSON over [mint.Key.SignInput].
func (i *Issuer) sign(n int, header map[string]any, payload []byte) (string, error) {
	alg, _ := header["alg"].(string)
	kid, _ := header["kid"].(string)
	if s := i.signers[n]; s != nil && alg == s.Alg() && kid == s.KID() {
		return s.SignCompact(header, payload)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	return i.signRaw(n, h, payload)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}
