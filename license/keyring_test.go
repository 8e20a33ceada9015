package license_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/licensekit/licensekit/license"
)

// jwk returns key as a JWK object, edited by mod (nil values delete members).
func krJWK(t testing.TB, key any, mod map[string]any) string {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatalf("marshal JWK: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range mod {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	data, _ = json.Marshal(m)
	return string(data)
}

func krJWKS(keys ...string) []byte { return []byte(`{"keys":[` + strings.Join(keys, ",") + `]}`) }

func krPEMBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// krWeakKeys are generated once: an RSA-1024, a P-521 and a P-224 key.
var krWeakKeys = sync.OnceValue(func() (w struct {
	rsa1024    *rsa.PrivateKey
	p521, p224 *ecdsa.PrivateKey
}) {
	var err error
	if w.rsa1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		panic(err)
	}
	if w.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader); err != nil {
		panic(err)
	}
	if w.p224, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader); err != nil {
		panic(err)
	}
	return w
})

func TestParseKeyringJWKSEachKeyType(t *testing.T) {
	f := fx()
	for _, k := range []*fxKey{f.ed, f.p256, f.p384, f.rs, f.ps} {
		t.Run(k.alg, func(t *testing.T) {
			kr, err := license.ParseKeyring(fxJWKS(k))
			if err != nil {
				t.Fatal(err)
			}
			if kr.Len() != 1 || !slices.Equal(kr.KeyIDs(), []string{k.kid}) {
				t.Fatalf("KeyIDs = %v, want [%s]", kr.KeyIDs(), k.kid)
			}
			if got := kr.Algorithm(k.kid); got != k.alg {
				t.Errorf("Algorithm = %q, want %q", got, k.alg)
			}
			// The key verifies its own tokens, by kid and without one.
			v := license.NewVerifier(kr, license.WithClock(fxClock))
			for _, h := range []string{k.std(), fxHdr(k.alg, "")} {
				if _, err := v.Verify(k.mint(h, fxClaims(""))); err != nil {
					t.Errorf("Verify(%s): %v", h, err)
				}
			}
		})
	}
	// All together, in the order given.
	kr := fx().all
	want := []string{f.ed.kid, f.ed2.kid, f.p256.kid, f.p384.kid, f.rs.kid, f.ps.kid}
	if !slices.Equal(kr.KeyIDs(), want) || kr.Len() != 6 {
		t.Errorf("KeyIDs = %v, want %v", kr.KeyIDs(), want)
	}
	if kr.Algorithm("no such kid") != "" || kr.Algorithm("") != "" {
		t.Error("Algorithm of an unknown kid is not empty")
	}
}

func TestParseKeyringPEMBundle(t *testing.T) {
	f := fx()
	keys := []*fxKey{f.ed, f.p256, f.p384, f.rs, f.ps}
	var pubs []crypto.PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.pub())
	}
	kr, err := license.ParseKeyring(fxPEM(pubs...))
	if err != nil {
		t.Fatal(err)
	}
	if kr.Len() != len(keys) {
		t.Fatalf("Len = %d, want %d", kr.Len(), len(keys))
	}
	for i, k := range keys {
		kid := kr.KeyIDs()[i]
		if kid != k.kid {
			t.Errorf("PEM key %d: kid %q, want the RFC 7638 thumbprint %q", i, kid, k.kid)
		}
		// PEM cannot say PS256: an RSA key from PEM is RS256.
		want := k.alg
		if want == license.PS256 {
			want = license.RS256
		}
		if got := kr.Algorithm(kid); got != want {
			t.Errorf("PEM key %d: Algorithm %q, want %q", i, got, want)
		}
	}
	v := license.NewVerifier(kr, license.WithClock(fxClock))
	if _, err := v.Verify(f.p384.mint(f.p384.std(), fxClaims(""))); err != nil {
		t.Errorf("ES384 token against the PEM bundle: %v", err)
	}
	_, err = v.Verify(f.ps.mint(f.ps.std(), fxClaims("")))
	fxWantSentinel(t, err, license.ErrAlgorithm) // the PS256 key came in as RS256
}

func TestParseKeyringKid(t *testing.T) {
	f := fx()
	t.Run("JWK kid is used as given", func(t *testing.T) {
		kr, err := license.ParseKeyring(krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kid": "vendor-2026"})))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(kr.KeyIDs(), []string{"vendor-2026"}) {
			t.Fatalf("KeyIDs = %v", kr.KeyIDs())
		}
		v := license.NewVerifier(kr, license.WithClock(fxClock))
		if _, err := v.Verify(f.ed.mint(fxHdr(license.EdDSA, "vendor-2026"), fxClaims(""))); err != nil {
			t.Error(err)
		}
		_, err = v.Verify(f.ed.mint(f.ed.std(), fxClaims(""))) // thumbprint kid no longer names it
		fxWantSentinel(t, err, license.ErrUnknownKey)
	})
	t.Run("JWK without kid gets the thumbprint", func(t *testing.T) {
		kr, err := license.ParseKeyring(krJWKS(krJWK(t, f.p256.pub(), nil)))
		if err != nil {
			t.Fatal(err)
		}
		if got := kr.KeyIDs(); !slices.Equal(got, []string{f.p256.kid}) {
			t.Errorf("KeyIDs = %v, want [%s]", got, f.p256.kid)
		}
	})
	t.Run("thumbprints agree with go-jose and with PEM", func(t *testing.T) {
		for _, k := range []*fxKey{f.ed, f.p256, f.p384, f.rs} {
			tp, err := (&jose.JSONWebKey{Key: k.pub()}).Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			fromPEM, err := license.ParseKeyring(fxPEM(k.pub()))
			if err != nil {
				t.Fatal(err)
			}
			joseKid := base64.RawURLEncoding.EncodeToString(tp)
			if k.kid != joseKid || fromPEM.KeyIDs()[0] != joseKid {
				t.Errorf("%s: by hand %q, go-jose %q, PEM kid %q", k.alg, k.kid, joseKid, fromPEM.KeyIDs()[0])
			}
		}
	})
	t.Run("RFC 8037 appendix A.3 thumbprint", func(t *testing.T) {
		const x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
		pub, _ := base64.RawURLEncoding.DecodeString(x)
		for _, in := range [][]byte{
			krJWKS(`{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`),
			fxPEM(ed25519.PublicKey(pub)),
		} {
			kr, err := license.ParseKeyring(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := kr.KeyIDs()[0]; got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
				t.Errorf("kid = %q, want RFC 8037's kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", got)
			}
		}
	})
}

func TestParseKeyringAccepts(t *testing.T) {
	f := fx()
	edJWK := krJWK(t, f.ed.pub(), nil)
	edPEM := fxPEM(f.ed.pub())
	bom := "\ufeff"
	for _, tc := range []struct {
		name string
		in   []byte
		n    int
	}{
		{"BOM-prefixed JWKS", []byte(bom + string(krJWKS(edJWK))), 1},
		{"BOM-prefixed PEM", []byte(bom + string(edPEM)), 1},
		{"JWKS with surrounding white space", []byte("\r\n\t " + string(krJWKS(edJWK)) + "\n\n"), 1},
		{"indented JWKS", func() []byte { var b bytes.Buffer; _ = json.Indent(&b, krJWKS(edJWK), "", "  "); return b.Bytes() }(), 1},
		{"PEM with CRLF line endings", bytes.ReplaceAll(edPEM, []byte("\n"), []byte("\r\n")), 1},
		{"PEM with a trailing blank line", append(append([]byte{}, edPEM...), "\n\n"...), 1},
		{"JWKS with unknown top-level members", []byte(`{"issuer":"acme","keys":[` + edJWK + `]}`), 1},
		{"JWK with use sig and unknown members", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"use": "sig", "x-note": "2026"})), 1},
		{"JWK with alg PS256 on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "PS256"})), 1},
		{"JWK with alg RS256 on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "RS256"})), 1},
		{"JWK with alg ES384 on P-384", krJWKS(krJWK(t, f.p384.pub(), map[string]any{"alg": "ES384"})), 1},
		{"two keys of one type", krJWKS(edJWK, krJWK(t, f.ed2.pub(), nil)), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := license.ParseKeyring(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if kr.Len() != tc.n {
				t.Errorf("Len = %d, want %d", kr.Len(), tc.n)
			}
		})
	}
}

func TestParseKeyringRefuses(t *testing.T) {
	f := fx()
	w := krWeakKeys()
	edJWK := krJWK(t, f.ed.pub(), nil)
	der := func(pub any) []byte {
		d, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	pkcs8 := func(priv any) []byte {
		d, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ecPriv, _ := x509.MarshalECPrivateKey(f.p256.priv.(*ecdsa.PrivateKey))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acme"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, f.ed.pub(), f.ed.priv)
	if err != nil {
		t.Fatal(err)
	}
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	offCurve := krJWK(t, f.p256.pub(), nil)
	{
		var m map[string]any
		_ = json.Unmarshal([]byte(offCurve), &m)
		y, _ := base64.RawURLEncoding.DecodeString(m["y"].(string))
		y[len(y)-1] ^= 1
		m["y"] = base64.RawURLEncoding.EncodeToString(y)
		b, _ := json.Marshal(m)
		offCurve = string(b)
	}
	edPEM := fxPEM(f.ed.pub())
	bigJWKS := append(krJWKS(edJWK), bytes.Repeat([]byte(" "), 1<<20)...)

	for _, tc := range []struct {
		name string
		in   []byte
	}{
		// Empty or not a keyring at all.
		{"nil input", nil},
		{"empty input", []byte{}},
		{"white space only", []byte(" \r\n\t")},
		{"BOM only", []byte("\ufeff")},
		{"plain text", []byte("hello")},
		{"JSON array of JWKs", []byte(`[` + edJWK + `]`)},
		{"a bare JWK, not a set", []byte(edJWK)},
		{"empty object", []byte(`{}`)},
		{"empty keys array", []byte(`{"keys":[]}`)},
		{"keys null", []byte(`{"keys":null}`)},
		{"keys an object", []byte(`{"keys":{}}`)},
		{"keys of numbers", []byte(`{"keys":[1]}`)},
		{"empty JWK", []byte(`{"keys":[{}]}`)},
		{"truncated JSON", krJWKS(edJWK)[:40]},
		{"trailing data after JWKS", append(krJWKS(edJWK), "x"...)},
		{"two JWKS documents", append(krJWKS(edJWK), krJWKS(edJWK)...)},
		{"duplicate keys member", []byte(`{"keys":[],"keys":[` + edJWK + `]}`)},
		{"duplicate x inside a JWK", []byte(`{"keys":[` + strings.TrimSuffix(edJWK, "}") + `,"x":"` + fxB64(f.ed2.pub().(ed25519.PublicKey)) + `"}]}`)},
		{"duplicate kty via escaped name", []byte(`{"keys":[` + strings.TrimSuffix(edJWK, "}") + `,"\u006bty":"RSA"}]}`)},
		{"oversized input (>1 MiB)", bigJWKS},
		{"invalid UTF-8 in JWKS", []byte(`{"keys":[` + edJWK + `],"x":"` + "\xff" + `"}`)},
		// Weak, private, symmetric or unsupported keys.
		{"RSA 1024 JWK", krJWKS(krJWK(t, &w.rsa1024.PublicKey, nil))},
		{"RSA 1024 PEM", krPEMBlock("PUBLIC KEY", der(&w.rsa1024.PublicKey))},
		{"private Ed25519 JWK (d)", krJWKS(krJWK(t, f.ed.priv, nil))},
		{"private P-256 JWK (d)", krJWKS(krJWK(t, f.p256.priv, nil))},
		{"private RSA JWK (d, p, q)", krJWKS(krJWK(t, f.rs.priv, nil))},
		{"symmetric oct JWK", krJWKS(`{"kty":"oct","k":"` + fxB64([]byte("0123456789abcdef0123456789abcdef")) + `"}`)},
		{"symmetric oct JWK with alg HS256", krJWKS(`{"kty":"oct","alg":"HS256","k":"c2VjcmV0"}`)},
		{"P-521 JWK", krJWKS(krJWK(t, &w.p521.PublicKey, nil))},
		{"P-521 PEM", krPEMBlock("PUBLIC KEY", der(&w.p521.PublicKey))},
		{"P-224 PEM", krPEMBlock("PUBLIC KEY", der(&w.p224.PublicKey))},
		{"X25519 OKP JWK", krJWKS(`{"kty":"OKP","crv":"X25519","x":"` + fxB64(x25519.PublicKey().Bytes()) + `"}`)},
		{"X25519 PEM", krPEMBlock("PUBLIC KEY", der(x25519.PublicKey()))},
		{"Ed448 OKP JWK", krJWKS(`{"kty":"OKP","crv":"Ed448","x":"` + fxB64(make([]byte, 57)) + `"}`)},
		{"Ed25519 x of 31 bytes", krJWKS(`{"kty":"OKP","crv":"Ed25519","x":"` + fxB64(make([]byte, 31)) + `"}`)},
		{"P-256 point not on the curve", krJWKS(offCurve)},
		{"kty missing", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kty": nil}))},
		{"kty unknown", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kty": "XYZ"}))},
		{"kid a number", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kid": 7}))},
		// Use and alg that do not fit.
		{"use enc", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"use": "enc"}))},
		{"use SIG (case matters)", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"use": "SIG"}))},
		{"use empty array", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"use": []string{}}))},
		{"alg ES256 on Ed25519", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"alg": "ES256"}))},
		{"alg PS256 on Ed25519", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"alg": "PS256"}))},
		{"alg none on Ed25519", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"alg": "none"}))},
		{"alg Ed25519 (RFC 9864 name) on Ed25519", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"alg": "Ed25519"}))},
		{"alg EdDSA on P-256", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"alg": "EdDSA"}))},
		{"alg ES384 on P-256", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"alg": "ES384"}))},
		{"alg ES256 on P-384", krJWKS(krJWK(t, f.p384.pub(), map[string]any{"alg": "ES256"}))},
		{"alg RS256 on P-256", krJWKS(krJWK(t, f.p256.pub(), map[string]any{"alg": "RS256"}))},
		{"alg EdDSA on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "EdDSA"}))},
		{"alg HS256 on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "HS256"}))},
		{"alg RS512 on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "RS512"}))},
		{"alg RSA-OAEP on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "RSA-OAEP"}))},
		{"alg ps256 (lower case) on RSA", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"alg": "ps256"}))},
		// Repeats.
		{"duplicate kid, different keys", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kid": "k1"}), krJWK(t, f.ed2.pub(), map[string]any{"kid": "k1"}))},
		{"duplicate kid across key types", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kid": "k1"}), krJWK(t, f.p256.pub(), map[string]any{"kid": "k1"}))},
		{"explicit kid equal to another key's thumbprint", krJWKS(edJWK, krJWK(t, f.ed2.pub(), map[string]any{"kid": f.ed.kid}))},
		{"same key twice under two kids", krJWKS(krJWK(t, f.ed.pub(), map[string]any{"kid": "a"}), krJWK(t, f.ed.pub(), map[string]any{"kid": "b"}))},
		{"same RSA key as RS256 and PS256", krJWKS(krJWK(t, f.rs.pub(), map[string]any{"kid": "a", "alg": "RS256"}), krJWK(t, f.rs.pub(), map[string]any{"kid": "b", "alg": "PS256"}))},
		{"same key twice, no kids", krJWKS(edJWK, edJWK)},
		{"same key twice in PEM", append(append([]byte{}, edPEM...), edPEM...)},
		// PEM blocks other than PUBLIC KEY, and PEM garbage.
		{"PEM PRIVATE KEY (PKCS#8 Ed25519)", krPEMBlock("PRIVATE KEY", pkcs8(f.ed.priv))},
		{"PEM RSA PRIVATE KEY", krPEMBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(f.rs.priv.(*rsa.PrivateKey)))},
		{"PEM EC PRIVATE KEY", krPEMBlock("EC PRIVATE KEY", ecPriv)},
		{"PEM CERTIFICATE", krPEMBlock("CERTIFICATE", cert)},
		{"PEM RSA PUBLIC KEY (PKCS#1)", krPEMBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(f.rs.pub().(*rsa.PublicKey)))},
		{"PEM public key (lower case type)", krPEMBlock("public key", der(f.ed.pub()))},
		{"PEM PUBLIC KEY with garbage DER", krPEMBlock("PUBLIC KEY", []byte("not DER"))},
		{"PEM PUBLIC KEY holding a certificate", krPEMBlock("PUBLIC KEY", cert)},
		{"good PUBLIC KEY then a PRIVATE KEY", append(append([]byte{}, edPEM...), krPEMBlock("PRIVATE KEY", pkcs8(f.ed2.priv))...)},
		{"trailing garbage after PEM", append(append([]byte{}, edPEM...), "garbage"...)},
		{"trailing JWKS after PEM", append(append([]byte{}, edPEM...), krJWKS(edJWK)...)},
		{"PEM without END line", edPEM[:bytes.Index(edPEM, []byte("-----END"))]},
		{"PEM with a corrupted base64 body", bytes.Replace(edPEM, []byte("MC"), []byte("M*"), 1)},
		{"BEGIN line only", []byte("-----BEGIN PUBLIC KEY-----\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				kr  *license.Keyring
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("ParseKeyring panicked: %v", p)
					}
				}()
				kr, err = license.ParseKeyring(tc.in)
			}()
			if err == nil {
				t.Fatalf("accepted: %d keys %v", kr.Len(), kr.KeyIDs())
			}
			if kr != nil {
				t.Errorf("non-nil keyring with error %v", err)
			}
			if !errors.Is(err, license.ErrKeyring) {
				t.Errorf("err = %v; want it to wrap ErrKeyring", err)
			}
			if !strings.HasPrefix(err.Error(), "license: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

// TestParseKeyringRefusesSmallOrderEd25519: an Ed25519 public key of small
// order (the identity, or a point of order 2, 4 or 8) makes "signatures"
// that verify for messages nobody signed — crypto/ed25519 checks
// [S]B = R + [k]A cofactorless and does not refuse such A — so a keyring
// must not accept one. Today the refusal comes from go-jose (its JWK
// decoder and its Thumbprint both check a low-order blocklist), on every
// path: PEM, JWK without kid, JWK with kid. This test pins that, so that a
// change of JOSE library or of the kid derivation cannot silently drop it;
// on failure it shows the forgery.
func TestParseKeyringRefusesSmallOrderEd25519(t *testing.T) {
	f := fx()
	for _, tc := range krSmallOrder {
		t.Run(tc.name, func(t *testing.T) {
			pub, _ := base64.StdEncoding.DecodeString(tc.b64)
			if !krWeakEd25519(pub) {
				t.Fatalf("test data: %s is not of small order", tc.name)
			}
			kr, err := license.ParseKeyring(fxPEM(ed25519.PublicKey(pub)))
			if err == nil {
				t.Errorf("accepted a small-order Ed25519 key; %s", krForge(kr))
			} else if !errors.Is(err, license.ErrKeyring) {
				t.Errorf("err = %v; want ErrKeyring", err)
			}
			for _, doc := range []string{
				`{"kty":"OKP","crv":"Ed25519","x":"` + fxB64(pub) + `"}`,
				`{"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","x":"` + fxB64(pub) + `"}`,
			} {
				kr, err = license.ParseKeyring(krJWKS(doc))
				if err == nil {
					t.Errorf("JWKS %s: accepted a small-order Ed25519 key; %s", doc, krForge(kr))
				} else if !errors.Is(err, license.ErrKeyring) {
					t.Errorf("err = %v; want ErrKeyring", err)
				}
			}
		})
	}
	// And the check does not refuse genuine keys.
	for _, k := range []*fxKey{f.ed, f.ed2, f.attacker} {
		if krWeakEd25519(k.pub().(ed25519.PublicKey)) {
			t.Errorf("weakEd25519 refuses a genuine key %s", k.kid)
		}
	}
}

// krSmallOrder are encodings of points of order 1, 2, 4 and 8, with
// the sign bit of x set or not, and the non-canonical y = p and y = p+1.
var krSmallOrder = []struct{ name, b64 string }{
	{"identity (y=1, order 1)", krB64Std(append([]byte{1}, make([]byte, 31)...))},
	{"y=-1 (order 2)", krB64Std(append([]byte{0xec}, append(bytes.Repeat([]byte{0xff}, 30), 0x7f)...))},
	{"y=0 (order 4)", krB64Std(make([]byte, 32))},
	{"y=0, x negative (order 4)", krB64Std(append(make([]byte, 31), 0x80))},
	{"order 8 (0x26e8…)", krB64Std([]byte{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05})},
	{"order 8 (0xc717…)", krB64Std([]byte{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a})},
	{"order 8 (0xc717…), x negative", krB64Std([]byte{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa})},
	{"identity, x negative", krB64Std(append(append([]byte{1}, make([]byte, 30)...), 0x80))},
	{"non-canonical y = p (order 4)", krB64Std(append([]byte{0xed}, append(bytes.Repeat([]byte{0xff}, 30), 0x7f)...))},
	{"non-canonical y = p+1 (identity)", krB64Std(append([]byte{0xee}, append(bytes.Repeat([]byte{0xff}, 30), 0x7f)...))},
}

func krB64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// forge tries the universal forgery against a keyring holding one weak
// key: R = identity, S = 0 verifies whenever [k]A is the identity, which
// for a point of order ≤ 8 happens for one message in eight at worst.
func krForge(kr *license.Keyring) string {
	v := license.NewVerifier(kr, license.WithClock(fxClock))
	sig := fxB64(append([]byte{1}, make([]byte, 63)...))
	for i := range 256 {
		h := fxSeg(`{"alg":"EdDSA"}`)
		p := fxSeg(fxSet("jti", fmt.Sprintf(`"forged_%d"`, i)))
		if lic, err := v.Verify(h + "." + p + "." + sig); err == nil {
			return fmt.Sprintf("a token nobody signed verified after %d tries (jti %s)", i+1, lic.ID)
		}
	}
	return "no forgery found in 256 tries"
}

// weakEd25519 reports whether an Ed25519 public key is of small order (or
// not a canonical field element), computed independently of go-jose's
// blocklist: the Montgomery form u = (1+y)/(1−y) of a small-order point
// gives an all-zero X25519 output, which crypto/ecdh refuses.
func krWeakEd25519(pub []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return true
	}
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	le := slices.Clone(pub)
	le[31] &= 0x7f // drop the sign of x
	slices.Reverse(le)
	y := new(big.Int).SetBytes(le)
	if y.Cmp(p) >= 0 {
		return true // non-canonical encoding
	}
	one := big.NewInt(1)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, p)
	if den.Sign() == 0 {
		return true // y = 1: the identity
	}
	u := new(big.Int).Add(one, y)
	u.Mul(u, new(big.Int).ModInverse(den, p))
	u.Mod(u, p)
	ub := u.FillBytes(make([]byte, 32))
	slices.Reverse(ub)
	peer, err := ecdh.X25519().NewPublicKey(ub)
	if err != nil {
		return true
	}
	scalar := bytes.Repeat([]byte{0x5a}, 32)
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		return true
	}
	_, err = priv.ECDH(peer)
	return err != nil
}

// TestParseKeyringKeyOps: RFC 7517 §4.3 "key_ops" marks what a key is for,
// as "use" does (§4.2); a verification key carries "verify". A JWK whose
// key_ops leave out "verify" (an ECDH key marked "deriveKey", an
// encryption key) must not become a signature key, just as "use": "enc"
// does not.
//
// BUG — go-jose does not read key_ops at all, so ParseKeyring accepts such
// keys today. Fix in license/keyring.go, parseJWKS, after the "use" check:
//
//	var ops struct {
//		KeyOps *[]string `json:"key_ops"`
//	}
//	if err := jsonfork.Unmarshal(raw, &ops); err != nil { // github.com/go-jose/go-jose/v4/json
//		return nil, fmt.Errorf("%w: key %d: key_ops: %v", ErrKeyring, i, err)
//	}
//	if ops.KeyOps != nil && !slices.Contains(*ops.KeyOps, "verify") {
//		return nil, fmt.Errorf("%w: key %d (%q) has key_ops %q, want \"verify\"", ErrKeyring, i, jwk.KeyID, *ops.KeyOps)
//	}
func TestParseKeyringKeyOps(t *testing.T) {
	f := fx()
	for _, tc := range []struct {
		name   string
		keyOps any
		ok     bool
	}{
		{"verify", []string{"verify"}, true},
		{"sign and verify", []string{"sign", "verify"}, true},
		{"encrypt", []string{"encrypt"}, false},
		{"deriveKey", []string{"deriveKey", "deriveBits"}, false},
		{"wrapKey", []string{"wrapKey"}, false},
		{"sign only (a private-key operation)", []string{"sign"}, false},
		{"empty list", []string{}, false},
		{"not an array", "verify", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := license.ParseKeyring(krJWKS(krJWK(t, f.p256.pub(), map[string]any{"key_ops": tc.keyOps})))
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && err == nil:
				t.Errorf("accepted key_ops %v as a signature key %v", tc.keyOps, kr.KeyIDs())
			case !tc.ok && !errors.Is(err, license.ErrKeyring):
				t.Errorf("err = %v; want ErrKeyring", err)
			}
		})
	}
}

// TestParseKeyringMemberNamesExact: JSON member names are case-sensitive
// (RFC 8259), and the keyring must read the same "keys" an auditor reads.
// A JWKS whose only key list is under "KEYS" has no keys; one with both
// "keys" and "Keys" must not silently use the second list.
//
// BUG — parseJWKS decodes the set with encoding/json, which matches
// member names case-insensitively (and keeps the last of "keys"/"Keys",
// which strictjson does not see as duplicates). Fix in license/keyring.go,
// parseJWKS: decode doc with go-jose's case-sensitive fork,
// github.com/go-jose/go-jose/v4/json (Unmarshal and RawMessage), instead of
// encoding/json — the JWKs themselves already go through it.
func TestParseKeyringMemberNamesExact(t *testing.T) {
	f := fx()
	a, b := krJWK(t, f.ed.pub(), nil), krJWK(t, f.ed2.pub(), nil)
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"KEYS only", `{"KEYS":[` + a + `]}`},
		{"Keys only", `{"Keys":[` + a + `]}`},
		{"keys then Keys", `{"keys":[` + a + `],"Keys":[` + b + `]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr, err := license.ParseKeyring([]byte(tc.in))
			if err == nil {
				if slices.Equal(kr.KeyIDs(), []string{f.ed.kid}) && strings.HasPrefix(tc.in, `{"keys"`) {
					return // read the "keys" member, ignored the other: fine
				}
				t.Errorf("keyring read %v from %s", kr.KeyIDs(), tc.name)
			} else if !errors.Is(err, license.ErrKeyring) {
				t.Errorf("err = %v; want ErrKeyring", err)
			}
		})
	}
}
