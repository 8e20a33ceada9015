package grace

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// This file gives the tests (internal and external) a stand-in for
// license's lease verifier: tokens "fake.<claims>.<mac>" under a test key.

var fakeKey = []byte("licensekit grace test lease key")

type fakeClaims struct {
	ID     string `json:"jti"`
	Sub    string `json:"sub"`
	Status string `json:"status"`
	Fpr    string `json:"fpr"`
	Iat    int64  `json:"iat"`
	Exp    int64  `json:"exp"`
}

// FakeToken returns a token for l that FakeVerify accepts (times in whole seconds).
func FakeToken(l Lease) string {
	b, _ := json.Marshal(fakeClaims{l.ID, l.LicenseID, l.Status, l.Fingerprint, l.IssuedAt.Unix(), l.ExpiresAt.Unix()})
	m := hmac.New(sha256.New, fakeKey)
	m.Write(b)
	enc := base64.RawURLEncoding
	return "fake." + enc.EncodeToString(b) + "." + enc.EncodeToString(m.Sum(nil))
}

// FakeLease returns l with its Token set and times cut to seconds, as FakeVerify returns it.
func FakeLease(l Lease) *Lease {
	l.IssuedAt = time.Unix(l.IssuedAt.Unix(), 0).UTC()
	l.ExpiresAt = time.Unix(l.ExpiresAt.Unix(), 0).UTC()
	if l.ReceivedAt.IsZero() { // received the moment it was issued, unless a test says otherwise
		l.ReceivedAt = l.IssuedAt
	}
	l.Token = FakeToken(l)
	return &l
}

var errFakeToken = errors.New("fake: bad lease token")

// FakeVerify verifies a FakeToken.
func FakeVerify(token string) (*Lease, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != "fake" {
		return nil, errFakeToken
	}
	enc := base64.RawURLEncoding
	b, err1 := enc.DecodeString(parts[1])
	sig, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return nil, errFakeToken
	}
	m := hmac.New(sha256.New, fakeKey)
	m.Write(b)
	if !hmac.Equal(m.Sum(nil), sig) {
		return nil, errFakeToken
	}
	var c fakeClaims
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, errFakeToken
	}
	return &Lease{
		ID: c.ID, LicenseID: c.Sub, Status: c.Status, Fingerprint: c.Fpr,
		IssuedAt: time.Unix(c.Iat, 0).UTC(), ExpiresAt: time.Unix(c.Exp, 0).UTC(),
	}, nil
}
