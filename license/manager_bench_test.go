package license_test

import (
	"context"
	"os"
	"testing"

	"github.com/licensekit/licensekit/license"
)

// BenchmarkRequire measures the per-request check, from many goroutines at
// once. BenchmarkVerify is what a product that re-verifies its token on
// every check pays instead.
func BenchmarkRequire(b *testing.B) {
	jwks, _ := os.ReadFile("testdata/example/jwks.json")
	keys, _ := license.ParseKeyring(jwks)
	m, err := license.Open(context.Background(), license.Config{
		Keys: keys, KeyFile: "testdata/example/license.json", AppID: "bench",
		StateDir: b.TempDir(), MachineID: "bench-machine",
	})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Require("kyc:write"); err != nil {
		b.Fatal(err)
	}
	b.Run("granted", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if m.Require("kyc:write") != nil {
					b.Fatal("refused")
				}
			}
		})
	})
	b.Run("not-granted", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if m.Require("billing:admin") == nil {
					b.Fatal("granted")
				}
			}
		})
	})
	b.Run("Status", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !m.Status().State.Allowed() {
					b.Fatal("not allowed")
				}
			}
		})
	})
}
