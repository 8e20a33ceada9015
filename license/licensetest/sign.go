package licensetest

import "encoding/base64"

var b64 = base64.RawURLEncoding

// SignRaw returns the compact JWS base64url(header).base64url(payload).sig,
// where sig is the signature of the key with the given kid, made with that
// key's algorithm by [mint.Key.SignInput]. header and payload are encoded
// exactly as given — not parsed, checked or reformatted — so a test can
// sign duplicate members, odd whitespace, invalid JSON or a header that
// names another key or algorithm. An empty kid picks the issuer's first
// key; an unknown kid fails the test.
func (i *Issuer) SignRaw(kid string, header, payload []byte) string {
	i.t.Helper()
	n := 0
	if kid != "" {
		n = i.index(kid)
	}
	tok, err := i.signRaw(n, header, payload)
	if err != nil {
		k := i.keys[n]
		i.fatalf("licensetest: signing with %s key %q: %v", k.Alg, k.KID, err)
	}
	return tok
}

// signRaw assembles a compact JWS of exactly these bytes, signed by key n.
func (i *Issuer) signRaw(n int, header, payload []byte) (string, error) {
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sig, err := i.minted[n].SignInput([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}
