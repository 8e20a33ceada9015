package license_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/licensekit/licensekit/license"
)

// benchCase is one algorithm's token, keyring and bare-primitive check over
// the same signing input.
type benchCase struct {
	name   string
	token  string
	keys   *license.Keyring
	verify func() bool // the bare primitive on the token's signing input
	pub    crypto.PublicKey
}

const benchClaims = `{"iss":"acme","sub":"sub_8f2k","aud":"Acme Health GmbH","jti":"lic_01HZX3","tid":"ten_abc123","tenant_ctry":"DE","plan":"yearly","iat":1790000000,"exp":1890000000,"capabilities":["kyc:read","kyc:write","reports:export"],"metadata":{"seats":"25"}}`

func benchCases(b *testing.B) []benchCase {
	b.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	input := func(alg string) string {
		return enc([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + enc([]byte(benchClaims))
	}
	pemOf := func(pub crypto.PublicKey) *license.Keyring {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			b.Fatal(err)
		}
		kr, err := license.ParseKeyring(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		if err != nil {
			b.Fatal(err)
		}
		return kr
	}

	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edIn := input("EdDSA")
	edSig := ed25519.Sign(edPriv, []byte(edIn))

	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecIn := input("ES256")
	ecHash := sha256.Sum256([]byte(ecIn))
	r, s, _ := ecdsa.Sign(rand.Reader, ecPriv, ecHash[:])
	ecSig := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)

	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaIn := input("RS256")
	rsaHash := sha256.Sum256([]byte(rsaIn))
	rsaSig, _ := rsa.SignPKCS1v15(rand.Reader, rsaPriv, crypto.SHA256, rsaHash[:])

	return []benchCase{
		{"EdDSA", edIn + "." + enc(edSig), pemOf(edPub), func() bool {
			return ed25519.Verify(edPub, []byte(edIn), edSig)
		}, edPub},
		{"ES256", ecIn + "." + enc(ecSig), pemOf(&ecPriv.PublicKey), func() bool {
			h := sha256.Sum256([]byte(ecIn))
			return ecdsa.Verify(&ecPriv.PublicKey, h[:], new(big.Int).SetBytes(ecSig[:32]), new(big.Int).SetBytes(ecSig[32:]))
		}, &ecPriv.PublicKey},
		{"RS256", rsaIn + "." + enc(rsaSig), pemOf(&rsaPriv.PublicKey), func() bool {
			h := sha256.Sum256([]byte(rsaIn))
			return rsa.VerifyPKCS1v15(&rsaPriv.PublicKey, crypto.SHA256, h[:], rsaSig) == nil
		}, &rsaPriv.PublicKey},
	}
}

// BenchmarkVerify measures the whole of Verify — shape, base64, header,
// key lookup, signature, claims, time — next to the bare signature
// primitive on the same signing input. Compare the two with benchstat or
// by eye: the ratio is the price of everything but the signature.
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1800000000, 0)
	for _, c := range benchCases(b) {
		v := license.NewVerifier(c.keys, license.WithIssuer("acme"), license.WithClock(func() time.Time { return now }))
		if _, err := v.Verify(c.token); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		if !c.verify() {
			b.Fatalf("%s: primitive refused its own signature", c.name)
		}
		b.Run(c.name+"/Verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(c.token); err != nil {
					b.Fatal(err)
				}
			}
		})
		if c.name == "EdDSA" {
			// go-jose's JWT path on the same token, for comparison: signature
			// and decoding of the claims into a struct, no further checks.
			b.Run(c.name+"/go-jose", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					tok, err := jwt.ParseSigned(c.token, []jose.SignatureAlgorithm{jose.EdDSA})
					if err != nil {
						b.Fatal(err)
					}
					var claims struct {
						jwt.Claims
						Tenant string   `json:"tid"`
						Caps   []string `json:"capabilities"`
					}
					if err := tok.Claims(c.pub, &claims); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(c.name+"/primitive", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !c.verify() {
					b.Fatal("refused")
				}
			}
		})
	}
}
