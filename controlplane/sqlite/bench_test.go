package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

// benchStores are the stores compared in one run: memstore is the floor.
func benchStores(b *testing.B) []struct {
	name string
	open func(b *testing.B) controlplane.Store
} {
	sq := func(opts ...sqlite.Option) func(b *testing.B) controlplane.Store {
		return func(b *testing.B) controlplane.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	return []struct {
		name string
		open func(b *testing.B) controlplane.Store
	}{
		{"memstore", func(*testing.B) controlplane.Store { return memstore.New() }},
		{"sqlite", sq()},
		{"sqlite-full", sq(sqlite.SyncFull())},
		{"sqlite-1reader", sq(sqlite.Readers(1))},
	}
}

var benchT0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func seedBench(b *testing.B, s controlplane.Store, n int) {
	b.Helper()
	for i := range n {
		l := controlplane.License{
			ID: fmt.Sprintf("lic_%06d", i), TenantID: "ten_a", Status: controlplane.StatusActive, Plan: "yearly",
			Audience: []string{"Acme"}, Capabilities: []string{"a", "b"}, Metadata: map[string]string{"env": "prod"},
			IssuedAt: benchT0, ExpiresAt: benchT0.AddDate(1, 0, 0), MaxMachines: 1,
			Primary: "eyJ.primary", Secondary: "eyJ.secondary",
			Machines: []controlplane.Machine{{Fingerprint: "fp1", ActivatedAt: benchT0, LeaseExpiresAt: benchT0.Add(time.Hour)}},
		}
		if err := s.CreateLicense(context.Background(), l, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordBeats writes batches of 64 heartbeats, as the server's
// write-behind would.
func BenchmarkRecordBeats(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			seedBench(b, s, 1000)
			batch := make([]controlplane.Beat, 64)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				at := benchT0.Add(time.Duration(i+1) * time.Second)
				for j := range batch {
					batch[j] = controlplane.Beat{LicenseID: fmt.Sprintf("lic_%06d", (i*64+j)%1000), Fingerprint: "fp1",
						At: at, DueAt: at.Add(time.Hour), LeaseIssuedAt: at, LeaseExpiresAt: at.Add(72 * time.Hour)}
				}
				if err := s.RecordBeats(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/beat")
		})
	}
}

// BenchmarkGetLicense reads one licence with its machine from many
// goroutines at once.
func BenchmarkGetLicense(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			seedBench(b, s, 1000)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := s.GetLicense(ctx, fmt.Sprintf("lic_%06d", i%1000)); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkCreateLicense is one write transaction with an event: the cost
// of synchronous=NORMAL against FULL.
func BenchmarkCreateLicense(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				l := controlplane.License{ID: fmt.Sprintf("lic_%09d", i), TenantID: "ten_a", Status: controlplane.StatusActive,
					IssuedAt: benchT0, ExpiresAt: benchT0.AddDate(1, 0, 0)}
				if err := s.CreateLicense(ctx, l, nil, controlplane.Event{Time: benchT0, Action: "license.issue", Target: l.ID}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
