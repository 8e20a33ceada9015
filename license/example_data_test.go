package license_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

var updateExample = flag.Bool("update-example", false, "regenerate testdata/example")

// exampleSeed is the private key of the examples' vendor. It is public on
// purpose: the example data must be reproducible, and it signs nothing
// but testdata.
var exampleSeed = sha256.Sum256([]byte("licensekit example vendor key — testdata only"))

// TestExampleData checks (and with -update-example, rewrites) the files the
// Example functions and the README read: a JWKS, the same key as PEM, and
// a key file whose tokens expire in 2099.
func TestExampleData(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(exampleSeed[:])
	pub := priv.Public().(ed25519.PublicKey)
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	jwks, _ := json.MarshalIndent(map[string]any{"keys": []any{map[string]any{
		"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub),
		"kid": kid, "alg": "EdDSA", "use": "sig",
	}}}, "", "  ")
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemData := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	mint := func(slot, jti string) string {
		enc := base64.RawURLEncoding.EncodeToString
		h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": kid, "typ": "JWT"})
		c, _ := json.Marshal(map[string]any{
			"iss": "acme", "sub": "sub_8f2k", "aud": "Acme Health GmbH", "jti": jti,
			"tid": "ten_abc123", "tenant_ctry": "DE", "plan": "custom", "slot": slot,
			"iat": 1795392000, "nbf": 1795392000, "exp": 4102444800, // 2026-11-23 .. 2100-01-01
			"capabilities": []string{"kyc:read", "kyc:write"},
			"metadata":     map[string]string{"seats": "25"},
		})
		in := enc(h) + "." + enc(c)
		return in + "." + enc(ed25519.Sign(priv, []byte(in)))
	}
	kf, _ := json.MarshalIndent(map[string]any{
		"format": "licensekit.keyfile/v1", "aud": "Acme Health GmbH", "sub": "sub_8f2k",
		"tid": "ten_abc123", "tenant_ctry": "DE",
		"primary": mint("primary", "lic_01JD2X"), "secondary": mint("secondary", "lic_01JD2Y"),
	}, "", "  ")

	files := map[string][]byte{"jwks.json": jwks, "keys.pem": pemData, "license.json": kf}
	for name, want := range files {
		path := filepath.Join("testdata", "example", name)
		if *updateExample {
			if err := os.WriteFile(path, append(want, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestExampleData -args -update-example ./license/)", err)
		}
		if string(got) != string(want)+"\n" {
			t.Errorf("%s is stale; run go test -run TestExampleData -args -update-example ./license/", path)
		}
	}
}
