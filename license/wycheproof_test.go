package license

// Wycheproof vectors (testdata/wycheproof, see its README) run against the
// signature layer: (*pubKey).verify for the primitives, and
// (*Verifier).verifySignature for the whole-JWS file. Keys are always
// loaded through ParseKeyring, so its refusals are tested too.
//
// Primitives. Every group's key loads from its JWK and, identically, from
// its PEM (9 ES256 and 9 ES384 groups come without a JWK: it is built from
// wx/wy). No key is refused: none is below 2048 bits.
//
//	file (alg)                                groups  valid  invalid  acceptable  verified  refused
//	ed25519_test (EdDSA)                          78     88       63           0        88       63
//	ecdsa_secp256r1_sha256_p1363 (ES256)         112    173       89           0       173       89
//	ecdsa_secp384r1_sha384_p1363 (ES384)         104    193       87           0       193       87
//	rsa_signature_2048_sha256 (RS256)              3      9      249           1         9      250
//	rsa_pss_2048_sha256_mgf1_32 (PS256)            1     63       45           0        63       45
//
// Every valid vector verifies, every invalid one is refused. The one
// acceptable vector, RS256 tcId 8 ("Missing NULL in the ASN encoding" of
// the DigestInfo), is refused: crypto/rsa compares the whole encoded block.
//
// json_web_signature_test: 23 groups, 401 vectors: 46 valid, 355 invalid,
// 0 acceptable. The private JWK never loads (23/23 refused). The public JWK
// (or, for the 4 HS256 groups, nothing: a symmetric key has no public
// part) loads for 9 groups and must be refused for 14: 4 symmetric, 4 RSA
// keys pinned to RS384/RS512/PS384/PS512, 2 P-521, 2 with use "enc", 2
// with key_ops ["encrypt"]. Groups without a key run against a decoy
// Ed25519 key under the same kid, so their vectors still reach the
// verifier. Each vector's expected sentinel comes from an independent
// reading of the token format (wpExpectJWS); ErrSignature when only the signature
// is wrong.
//
//	invalid: 355 refused, 0 accepted, each with the predicted sentinel
//	valid:    14 accepted, 32 refused, all deliberate divergences:
//	  key refused, symmetric (HS256): BAD_ALGORITHM 8, MALFORMED ('?' in a segment) 2   10
//	  key refused, RSA pinned to RS384/RS512/PS384/PS512: BAD_ALGORITHM 12,
//	    MALFORMED (empty payload) 4                                                     16
//	  key refused, P-521 (ES512): BAD_ALGORITHM                                          2
//	  MALFORMED: empty payload segment (RS256 and PS256 "emptyPayload")                  2
//	  BAD_ALGORITHM: alg PS384 on a PS256 key (RFC 7520 figure 20)                       2
//
// KNOWN BUG: ParseKeyring ignores key_ops, so groups 19 and 20 (key_ops
// ["encrypt"]) load and their invalid vectors, tcIds 355 and 356, are
// accepted; TestWycheproofJWS fails until keyring.go refuses a JWK whose
// key_ops lacks "verify". The counts above are those after the fix.
//
// The counts are asserted (wpPrimitiveCounts, wpJWSCounts): when one
// changes, the test fails and this table must change with it.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const wycheproofDir = "testdata/wycheproof"

type wpFile struct {
	NumberOfTests int       `json:"numberOfTests"`
	TestGroups    []wpGroup `json:"testGroups"`
}

type wpGroup struct {
	KeySize      int             `json:"keySize"` // RSA files
	PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
	KeyJwk       json.RawMessage `json:"keyJwk"` // the RSA PKCS#1 file's name for it
	PublicKeyPem string          `json:"publicKeyPem"`
	PublicKey    struct {
		Curve  string `json:"curve"`
		Wx, Wy string // hex, as DER integers
	} `json:"publicKey"`
	// JWS file.
	Comment string                     `json:"comment"`
	Private map[string]json.RawMessage `json:"private"`
	Public  map[string]json.RawMessage `json:"public"`
	Tests   []wpTest                   `json:"tests"`
}

type wpTest struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     string   `json:"msg"`
	Sig     string   `json:"sig"`
	JWS     string   `json:"jws"`
	Result  string   `json:"result"`
}

func loadWycheproof(t *testing.T, name string) *wpFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wycheproofDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var f wpFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n := 0
	for _, g := range f.TestGroups {
		n += len(g.Tests)
	}
	if n != f.NumberOfTests {
		t.Fatalf("%s: read %d tests, file says %d", name, n, f.NumberOfTests)
	}
	return &f
}

// wpPrimitiveCounts is one row of the primitives table.
type wpPrimitiveCounts struct {
	groups, groupsRefused                 int
	valid, invalid, acceptable            int
	verified, refused                     int
	acceptableVerified, acceptableRefused []int // tcIds
}

func TestWycheproofPrimitives(t *testing.T) {
	tests := []struct {
		file, alg string
		want      wpPrimitiveCounts
	}{
		{"ed25519_test.json", EdDSA, wpPrimitiveCounts{groups: 78, valid: 88, invalid: 63, verified: 88, refused: 63}},
		{"ecdsa_secp256r1_sha256_p1363_test.json", ES256, wpPrimitiveCounts{groups: 112, valid: 173, invalid: 89, verified: 173, refused: 89}},
		{"ecdsa_secp384r1_sha384_p1363_test.json", ES384, wpPrimitiveCounts{groups: 104, valid: 193, invalid: 87, verified: 193, refused: 87}},
		{"rsa_signature_2048_sha256_test.json", RS256, wpPrimitiveCounts{groups: 3, valid: 9, invalid: 249, acceptable: 1, verified: 9, refused: 250, acceptableRefused: []int{8}}},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", PS256, wpPrimitiveCounts{groups: 1, valid: 63, invalid: 45, verified: 63, refused: 45}},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			f := loadWycheproof(t, tt.file)
			var got wpPrimitiveCounts
			for gi, g := range f.TestGroups {
				got.groups++
				key, err := wpPrimitiveKey(g, tt.alg)
				weak := g.KeySize != 0 && g.KeySize < MinRSABits
				switch {
				case weak && err == nil:
					t.Errorf("group %d: %d-bit RSA key accepted", gi, g.KeySize)
				case weak:
					got.groupsRefused++
					got.refused += len(g.Tests)
					continue
				case err != nil:
					t.Errorf("group %d: key refused: %v", gi, err)
					continue
				}
				for _, tc := range g.Tests {
					msg, err1 := hex.DecodeString(tc.Msg)
					sig, err2 := hex.DecodeString(tc.Sig)
					if err1 != nil || err2 != nil {
						t.Fatalf("tcId %d: bad hex", tc.TcID)
					}
					ok := key.verify(msg, sig)
					if ok {
						got.verified++
					} else {
						got.refused++
					}
					switch tc.Result {
					case "valid":
						got.valid++
						if !ok {
							t.Errorf("tcId %d (%s %v): valid signature refused", tc.TcID, tc.Comment, tc.Flags)
						}
					case "invalid":
						got.invalid++
						if ok {
							t.Errorf("tcId %d (%s %v): invalid signature verified", tc.TcID, tc.Comment, tc.Flags)
						}
					case "acceptable":
						got.acceptable++
						if ok {
							got.acceptableVerified = append(got.acceptableVerified, tc.TcID)
						} else {
							got.acceptableRefused = append(got.acceptableRefused, tc.TcID)
						}
						t.Logf("acceptable tcId %d (%s %v): verified=%v", tc.TcID, tc.Comment, tc.Flags, ok)
					default:
						t.Fatalf("tcId %d: result %q", tc.TcID, tc.Result)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("counts\n got %+v\nwant %+v\n(update the table at the top of this file)", got, tt.want)
			}
		})
	}
}

// wpPrimitiveKey loads a group's key from its JWK and from its PEM through
// ParseKeyring and checks that both give the same key, pinned to alg.
func wpPrimitiveKey(g wpGroup, alg string) (*pubKey, error) {
	jwk := g.PublicKeyJwk
	if len(jwk) == 0 {
		jwk = g.KeyJwk
	}
	if len(jwk) == 0 {
		// Some ECDSA groups come without a JWK: build it from wx and wy.
		var err error
		if jwk, err = wpECJWK(g.PublicKey.Curve, g.PublicKey.Wx, g.PublicKey.Wy); err != nil {
			return nil, err
		}
	}
	kr, err := ParseKeyring([]byte(`{"keys":[` + string(jwk) + `]}`))
	krPEM, errPEM := ParseKeyring([]byte(g.PublicKeyPem))
	if (err == nil) != (errPEM == nil) {
		return nil, fmt.Errorf("JWK and PEM disagree: %v / %v", err, errPEM)
	}
	if err != nil {
		if !errors.Is(err, ErrKeyring) || !errors.Is(errPEM, ErrKeyring) {
			return nil, fmt.Errorf("keyring error does not wrap ErrKeyring: %v / %v", err, errPEM)
		}
		return nil, err
	}
	key, pemKey := kr.keys[0], krPEM.keys[0]
	if !key.equal(pemKey) {
		return nil, errors.New("JWK and PEM give different keys")
	}
	if key.alg != alg {
		return nil, fmt.Errorf("JWK key pinned to %s, want %s", key.alg, alg)
	}
	// A PEM carries no alg: RSA keys are RS256 unless re-pinned.
	if alg == PS256 {
		if pemKey.alg != RS256 {
			return nil, fmt.Errorf("PEM RSA key pinned to %s, want RS256", pemKey.alg)
		}
		if pemKey, err = newPubKey(pemKey.rsa, PS256); err != nil {
			return nil, err
		}
	}
	if pemKey.alg != alg {
		return nil, fmt.Errorf("PEM key pinned to %s, want %s", pemKey.alg, alg)
	}
	return key, nil
}

// wpECJWK builds an EC JWK from the hex coordinates of a group's key.
func wpECJWK(curve, wx, wy string) (json.RawMessage, error) {
	crv, size := map[string]string{"secp256r1": "P-256", "secp384r1": "P-384"}[curve], map[string]int{"secp256r1": 32, "secp384r1": 48}[curve]
	if crv == "" {
		return nil, fmt.Errorf("curve %q", curve)
	}
	coord := func(h string) (string, error) {
		b, err := hex.DecodeString(h)
		if err != nil {
			return "", err
		}
		b = bytes.TrimLeft(b, "\x00")
		if len(b) > size {
			return "", fmt.Errorf("coordinate of %d bytes", len(b))
		}
		return base64.RawURLEncoding.EncodeToString(append(make([]byte, size-len(b)), b...)), nil
	}
	x, err := coord(wx)
	if err != nil {
		return nil, err
	}
	y, err := coord(wy)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"kty": "EC", "crv": crv, "x": x, "y": y})
}

// wpJWSCounts summarises the JWS file.
type wpJWSCounts struct {
	groups, privateRefused, publicLoaded, publicRefused int
	valid, invalid, acceptable                          int
	validAccepted, invalidRefused                       int
	divergences                                         map[string]int // valid vectors refused, by reason
}

func TestWycheproofJWS(t *testing.T) {
	f := loadWycheproof(t, "json_web_signature_test.json")
	// The counts once ParseKeyring refuses key_ops without "verify"; until
	// then groups 19 and 20 load and tcIds 355 and 356 are accepted.
	const (
		decoyAlg  = "; decoy: BAD_ALGORITHM (alg "
		decoyTail = " is not one we verify)"
	)
	want := wpJWSCounts{
		groups: 23, privateRefused: 23, publicLoaded: 9, publicRefused: 14,
		valid: 46, invalid: 355, validAccepted: 14, invalidRefused: 355,
		divergences: map[string]int{
			"key refused: symmetric (kty oct)" + decoyAlg + `"HS256"` + decoyTail:                                8,
			"key refused: symmetric (kty oct); decoy: MALFORMED (character outside the base64url alphabet)":      2,
			"key refused: alg does not fit the RSA key" + decoyAlg + `"RS384"` + decoyTail:                       3,
			"key refused: alg does not fit the RSA key" + decoyAlg + `"RS512"` + decoyTail:                       3,
			"key refused: alg does not fit the RSA key" + decoyAlg + `"PS384"` + decoyTail:                       3,
			"key refused: alg does not fit the RSA key" + decoyAlg + `"PS512"` + decoyTail:                       3,
			"key refused: alg does not fit the RSA key; decoy: MALFORMED (empty segment (strict compact shape))": 4,
			"key refused: unsupported curve" + decoyAlg + `"ES512"` + decoyTail:                                  2,
			"MALFORMED: empty segment (strict compact shape)":                                                    2,
			`BAD_ALGORITHM: alg "PS384" is not one we verify`:                                                    2,
		},
	}
	got := wpJWSCounts{divergences: map[string]int{}}
	decoy := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	for gi, g := range f.TestGroups {
		got.groups++
		kid := wpString(g.Private["kid"])
		t.Run(fmt.Sprintf("group%d_%s", gi, g.Comment), func(t *testing.T) {
			// The private JWK itself never loads.
			if _, err := ParseKeyring(wpJWKS(g.Private)); err == nil {
				t.Errorf("private JWK accepted")
			} else if !errors.Is(err, ErrKeyring) || !strings.Contains(err.Error(), "private or symmetric") {
				t.Errorf("private JWK refused with %v, want ErrKeyring: private or symmetric", err)
			} else {
				got.privateRefused++
			}
			wantKeyRefusal := wpKeyRefusal(g.Public)
			var (
				kr    *Keyring
				krErr error
			)
			if g.Public == nil {
				// Symmetric: there is no public part to derive.
				if kty := wpString(g.Private["kty"]); kty != "oct" {
					t.Fatalf("group without public key has kty %q", kty)
				}
				krErr = fmt.Errorf("%w: no public part", ErrKeyring)
			} else {
				kr, krErr = ParseKeyring(wpJWKS(g.Public))
			}
			keyRefused := ""
			switch {
			case krErr == nil && wantKeyRefusal.reason != "":
				t.Errorf("BUG: public key loaded, but must be refused: %s", wantKeyRefusal.reason)
			case krErr == nil:
				got.publicLoaded++
			case wantKeyRefusal.reason == "":
				t.Errorf("public key refused unexpectedly: %v", krErr)
			case !errors.Is(krErr, ErrKeyring) || !strings.Contains(krErr.Error(), wantKeyRefusal.message):
				t.Errorf("public key refused with %v, want ErrKeyring and %q", krErr, wantKeyRefusal.message)
			default:
				got.publicRefused++
				keyRefused = wantKeyRefusal.reason
			}
			if kr == nil {
				// Run the vectors anyway, against an unrelated key under the
				// group's kid: nothing may verify, and the refusal reasons
				// are still checked.
				var err error
				kr, err = ParseKeyring([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":` +
					string(g.Private["kid"]) + `,"x":"` + base64.RawURLEncoding.EncodeToString(decoy) + `"}]}`))
				if err != nil || kr.keys[0].kid != kid {
					t.Fatalf("decoy keyring: %v", err)
				}
			}
			v := NewVerifier(kr)
			for _, tc := range g.Tests {
				_, err := v.verifySignature(tc.JWS, typLicense)
				sentinel, why := wpExpectJWS(tc.JWS, kr)
				if err != nil && Code(err) == "" {
					t.Errorf("tcId %d: error wraps no sentinel: %v", tc.TcID, err)
				}
				if sentinel == nil {
					// Only the signature decides.
					sentinel, why = ErrSignature, "signature"
				}
				switch tc.Result {
				case "invalid":
					got.invalid++
					if err == nil {
						t.Errorf("tcId %d (%s %v): invalid vector accepted", tc.TcID, tc.Comment, tc.Flags)
						continue
					}
					got.invalidRefused++
					if !errors.Is(err, sentinel) {
						t.Errorf("tcId %d (%s): refused with %v, want %s (%s)", tc.TcID, tc.Comment, err, sentinel.Code(), why)
					}
				case "valid":
					got.valid++
					switch {
					case keyRefused != "":
						// Against the decoy key the verifier still gives
						// the reason an independent reading predicts.
						if !errors.Is(err, sentinel) {
							t.Errorf("tcId %d (%s): decoy key: got %v, want %s (%s)", tc.TcID, tc.Comment, err, sentinel.Code(), why)
						}
						got.divergences["key refused: "+keyRefused+"; decoy: "+sentinel.Code()+" ("+why+")"]++
					case sentinel == ErrSignature && err != nil:
						t.Errorf("tcId %d (%s): valid vector refused: %v", tc.TcID, tc.Comment, err)
					case sentinel == ErrSignature:
						got.validAccepted++
					case !errors.Is(err, sentinel):
						t.Errorf("tcId %d (%s): got %v, want divergence %s (%s)", tc.TcID, tc.Comment, err, sentinel.Code(), why)
					default:
						got.divergences[sentinel.Code()+": "+why]++
					}
				default:
					got.acceptable++
					t.Errorf("tcId %d: unexpected result %q", tc.TcID, tc.Result)
				}
			}
		})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n got %+v\nwant %+v\n(update the table at the top of this file)", got, want)
	}
	for _, r := range slices.Sorted(maps.Keys(got.divergences)) {
		t.Logf("divergence %-60s %3d", r, got.divergences[r])
	}
}

// wpJWKS wraps one JWK in a JWKS document.
func wpJWKS(jwk map[string]json.RawMessage) []byte {
	b, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	if err != nil {
		panic(err)
	}
	return b
}

func wpString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

type wpRefusal struct {
	reason  string // category, for the divergence table
	message string // what ParseKeyring's error must say
}

// wpKeyRefusal reads a public JWK as RFC 7517/7518 and our format do, and
// says why ParseKeyring must refuse it, or returns the zero value.
func wpKeyRefusal(jwk map[string]json.RawMessage) wpRefusal {
	if jwk == nil {
		return wpRefusal{"symmetric (kty oct)", "no public part"}
	}
	kty, crv, alg, use := wpString(jwk["kty"]), wpString(jwk["crv"]), wpString(jwk["alg"]), wpString(jwk["use"])
	if use != "" && use != "sig" {
		return wpRefusal{"use " + use, "has use"}
	}
	if raw, ok := jwk["key_ops"]; ok {
		var ops []string
		if json.Unmarshal(raw, &ops) != nil || !slices.Contains(ops, "verify") {
			return wpRefusal{"key_ops without verify", "key_ops"}
		}
	}
	switch kty {
	case "EC":
		if crv != "P-256" && crv != "P-384" {
			return wpRefusal{"unsupported curve", "unsupported"}
		}
		if alg != "" && alg != map[string]string{"P-256": ES256, "P-384": ES384}[crv] {
			return wpRefusal{"alg does not fit the EC key", "does not fit"}
		}
	case "RSA":
		if alg != "" && alg != RS256 && alg != PS256 {
			return wpRefusal{"alg does not fit the RSA key", "does not fit an RSA key"}
		}
	case "OKP":
		if crv != "Ed25519" || (alg != "" && alg != EdDSA) {
			return wpRefusal{"unsupported OKP key", ""}
		}
	default:
		return wpRefusal{"kty " + kty, ""}
	}
	return wpRefusal{}
}

// wpExpectJWS reads a compact JWS the way the token format describes, independently
// of the verifier, and returns the sentinel it must be refused with before
// the signature is checked, or nil when only the signature decides.
func wpExpectJWS(jws string, kr *Keyring) (*Error, string) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return ErrMalformed, "not three segments"
	}
	for _, p := range parts {
		if p == "" {
			return ErrMalformed, "empty segment (strict compact shape)"
		}
		if strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return ErrMalformed, "character outside the base64url alphabet"
		}
	}
	var decoded [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != p {
			return ErrMalformed, "not canonical base64url"
		}
		decoded[i] = b
	}
	var h map[string]any
	if err := json.Unmarshal(decoded[0], &h); err != nil || h == nil {
		return ErrMalformed, "header is not a JSON object"
	}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if name != "alg" && name != "kid" && name != "typ" {
			return ErrMalformed, "forbidden header member " + name
		}
	}
	alg, ok := h["alg"].(string)
	if !ok {
		return ErrMalformed, "alg missing or not a string"
	}
	if typ, present := h["typ"]; present {
		if s, ok := typ.(string); !ok || !strings.EqualFold(s, "JWT") {
			return ErrMalformed, "typ is not JWT"
		}
	}
	switch alg {
	case EdDSA, ES256, ES384, RS256, PS256:
	default:
		return ErrAlgorithm, fmt.Sprintf("alg %q is not one we verify", alg)
	}
	var key *pubKey
	if k, present := h["kid"]; present {
		s, ok := k.(string)
		if !ok {
			return ErrMalformed, "kid is not a string"
		}
		if key = kr.byKid[s]; key == nil {
			return ErrUnknownKey, "kid not in the keyring"
		}
	} else if kr.Len() != 1 {
		return ErrUnknownKey, "kid required"
	} else {
		key = kr.keys[0]
	}
	if alg != key.alg {
		return ErrAlgorithm, fmt.Sprintf("alg %s on a %s key", alg, key.alg)
	}
	return nil, ""
}
