package controlplane_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// BenchmarkHeartbeat is one heartbeat through the handler over memstore:
// decoding, token verification, the licence read, the lease signature and
// the answer. Compare it with BenchmarkSignLease, the bare signature of the
// same lease, in the same run.
func BenchmarkHeartbeat(b *testing.B) {
	h := newHarness(b)
	l := h.issue("ten_a", nil)
	if _, err := h.activate(l, l.Primary, "fp-bench"); err != nil {
		b.Fatal(err)
	}
	body := `{"token":"` + l.Primary + `","fingerprint":"fp-bench"}`
	path := "/licenses/" + l.ID + "/heartbeat"
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkSignLease is the bare signing of the lease a heartbeat answers.
func BenchmarkSignLease(b *testing.B) {
	key, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		b.Fatal(err)
	}
	s, err := mint.NewSigner(key, mint.WithIssuer(issuer))
	if err != nil {
		b.Fatal(err)
	}
	iat := time.Unix(1_800_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Lease(mint.Lease{LicenseID: "lic_abcdefghijklmnopqrstuvwxyz", Fingerprint: "fp-bench",
			Status: license.LeaseActive, IssuedAt: iat, ExpiresAt: iat.Add(336 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
}
