package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"
)

// TestSignatureLayerSmoke signs a token by hand, without any JOSE library,
// so the verifier is checked against the bare primitive.
func TestSignatureLayerSmoke(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	kr := &Keyring{keys: []*pubKey{{kid: "k1", alg: EdDSA, ed: pub}}}
	kr.byKid = map[string]*pubKey{"k1": kr.keys[0]}
	now := time.Unix(1_800_000_000, 0)
	enc := base64.RawURLEncoding.EncodeToString
	h := enc([]byte(`{"alg":"EdDSA","kid":"k1","typ":"JWT"}`))
	p := enc([]byte(`{"iss":"acme","sub":"sub_1","aud":"Acme Health","jti":"lic_1","tid":"ten_1","iat":1799999000,"exp":1800999000,"capabilities":["kyc:write"]}`))
	tok := h + "." + p + "." + enc(ed25519.Sign(priv, []byte(h+"."+p)))
	v := NewVerifier(kr, WithIssuer("acme"), WithClock(func() time.Time { return now }))
	lic, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !lic.Has("kyc:write") || lic.Has("kyc:read") || lic.Audience[0] != "Acme Health" {
		t.Fatalf("unexpected licence %+v", lic)
	}
	// Flip a bit in the first byte of the signature (R), which every
	// verifier must notice.
	sig := ed25519.Sign(priv, []byte(h+"."+p))
	sig[0] ^= 1
	if _, err := v.Verify(h + "." + p + "." + enc(sig)); Code(err) != "INVALID_SIGNATURE" {
		t.Fatalf("tampered signature: got %v", err)
	}
}
