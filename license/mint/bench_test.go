package mint_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// The lease budget: BenchmarkSignLease must cost at most 1.10 times
// BenchmarkEd25519Sign, the bare signature of a signing input of the same
// size, in the same run:
//
//	go test -run='^$' -bench='SignLease|Ed25519Sign' -benchmem -count=5 ./license/mint/

func benchLease() mint.Lease {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return mint.Lease{
		LicenseID:   "lic_0123456789abcdef01234567",
		Fingerprint: "fp1:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Status:      license.LeaseActive,
		IssuedAt:    now,
		ExpiresAt:   now.Add(14 * 24 * time.Hour),
	}
}

func benchSigner(b *testing.B) *mint.Signer {
	k, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		b.Fatal(err)
	}
	s, err := mint.NewSigner(k, mint.WithIssuer("https://licensing.example.com"))
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSignLease(b *testing.B) {
	s, l := benchSigner(b), benchLease()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Lease(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Sign signs the signing input of a lease like
// BenchmarkSignLease's: the floor under it.
func BenchmarkEd25519Sign(b *testing.B) {
	s, l := benchSigner(b), benchLease()
	tok, err := s.Lease(l)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(tok[:strings.LastIndexByte(tok, '.')])
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = ed25519.Sign(priv, input)
	}
}

func BenchmarkSignLicense(b *testing.B) {
	s := benchSigner(b)
	c := validClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.License(c); err != nil {
			b.Fatal(err)
		}
	}
}
