package controlplane

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a credential held in memory: an API-key secret or the
// bootstrap admin key. It prints as [redacted] through fmt, slog and
// encoding/json, so that no log line or error can carry one by accident.
// The one place a secret is shown is the answer that creates an API key,
// which converts it to a string on purpose.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", also for %#v.
func (Secret) GoString() string { return redacted }

// LogValue returns "[redacted]" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// secretKeySize is the size of the server's secret key, from which the
// sealing key and the API-key hashing key are derived.
const secretKeySize = 32

// keys are the subkeys derived from the server's secret key with HKDF
// (SHA-256), one per purpose, so that no key serves two algorithms.
type keys struct {
	seal  cipher.AEAD // AES-256-GCM for private signing keys at rest
	mac   []byte      // HMAC-SHA256 key for the hash of API-key secrets
	check []byte      // HMAC-SHA256 key for the check a secret carries
}

func deriveKeys(secret []byte) (*keys, error) {
	if len(secret) != secretKeySize {
		return nil, fmt.Errorf("%w: the secret key must be %d bytes, got %d", ErrSecretKey, secretKeySize, len(secret))
	}
	sealKey, err := hkdf.Key(sha256.New, secret, nil, "licensekit controlplane v1: signing-key sealing", 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	macKey, err := hkdf.Key(sha256.New, secret, nil, "licensekit controlplane v1: api-key hashing", 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	checkKey, err := hkdf.Key(sha256.New, secret, nil, "licensekit controlplane v1: api-key secret check", 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return &keys{seal: aead, mac: macKey, check: checkKey}, nil
}

// sealPrivate encrypts a private JWK; kid is bound as additional data so
// that a sealed key cannot be swapped onto another key's record.
func (k *keys) sealPrivate(kid string, plain []byte) ([]byte, error) {
	nonce := make([]byte, k.seal.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.seal.Seal(nonce, nonce, plain, []byte(kid)), nil
}

func (k *keys) openPrivate(kid string, sealed []byte) ([]byte, error) {
	n := k.seal.NonceSize()
	if len(sealed) < n+k.seal.Overhead() {
		return nil, fmt.Errorf("%w: sealed key %s is too short", ErrSecretKey, kid)
	}
	plain, err := k.seal.Open(nil, sealed[:n], sealed[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("%w: cannot open sealed key %s (another secret key?)", ErrSecretKey, kid)
	}
	return plain, nil
}

// hashSecret is the keyed hash stored for an API-key secret.
func (k *keys) hashSecret(s Secret) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// matchSecret compares a presented secret with a stored hash in constant time.
func (k *keys) matchSecret(s Secret, hash []byte) bool {
	return subtle.ConstantTimeCompare(k.hashSecret(s), hash) == 1
}

// API-key secrets look like lk_<key id>_<random><check>: the key id names
// the stored record, so lookup needs no index on the hash, and the check,
// a keyed MAC of what precedes it, tells a secret this server made from a
// forged one before the store is asked. A flood of made-up secrets thus
// costs an HMAC each, not a store read.
const (
	secretPrefix = "lk_"
	maxSecretLen = 256
	randomLen    = 32 // 20 random bytes in base32
	checkLen     = 16 // 10 bytes of HMAC in base32
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID returns prefix followed by n random bytes in lower-case base32.
func randomID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("controlplane: crypto/rand failed: " + err.Error()) // never happens since Go 1.24
	}
	return prefix + idEncoding.EncodeToString(b)
}

// secretCheck is the check that ends a secret whose other characters are body.
func (k *keys) secretCheck(body string) string {
	m := hmac.New(sha256.New, k.check)
	m.Write([]byte(body))
	return idEncoding.EncodeToString(m.Sum(nil)[:10])
}

// newSecret returns a fresh secret for the key id.
func (k *keys) newSecret(keyID string) Secret {
	body := secretPrefix + keyID + "_" + randomID("", 20)
	return Secret(body + k.secretCheck(body))
}

// secretKeyID returns the key id a secret names, or "" when it does not
// have the lk_<id>_<random><check> shape or its check is not ours.
func (k *keys) secretKeyID(s Secret) string {
	str := string(s)
	if len(str) > maxSecretLen || !strings.HasPrefix(str, secretPrefix) {
		return ""
	}
	rest := str[len(secretPrefix):]
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 || len(rest)-i-1 != randomLen+checkLen {
		return ""
	}
	id := rest[:i]
	if !validKeyID(id) {
		return ""
	}
	body, check := str[:len(str)-checkLen], str[len(str)-checkLen:]
	if subtle.ConstantTimeCompare([]byte(k.secretCheck(body)), []byte(check)) != 1 {
		return ""
	}
	return id
}

func validKeyID(id string) bool {
	return strings.HasPrefix(id, "key_") && validID(id)
}

// secretHint is what a masked list shows of a secret: its last characters.
func secretHint(s Secret) string {
	str := string(s)
	if len(str) < 12 {
		return ""
	}
	return str[len(str)-4:]
}
