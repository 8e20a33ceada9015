package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/controlplane/postgres"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

type benchStore struct {
	name string
	open func(b *testing.B) (controlplane.Store, *atomic.Int64)
}

// benchStores are the stores compared in one run: memstore is the floor,
// SQLite the single-binary store. PostgreSQL's round trips are counted.
func benchStores(b *testing.B) []benchStore {
	serverURL(b)
	return []benchStore{
		{"memstore", func(*testing.B) (controlplane.Store, *atomic.Int64) { return memstore.New(), nil }},
		{"sqlite", func(b *testing.B) (controlplane.Store, *atomic.Int64) {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s, nil
		}},
		{"postgres", func(b *testing.B) (controlplane.Store, *atomic.Int64) {
			var trips atomic.Int64
			s, err := postgres.Open(context.Background(), freshDB(b), postgres.CountRoundTrips(&trips))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s, &trips
		}},
	}
}

var benchT0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func seedBench(b *testing.B, s controlplane.Store, n int) {
	b.Helper()
	for i := range n {
		l := controlplane.License{
			ID: fmt.Sprintf("lic_%06d", i), TenantID: "ten_a", Status: controlplane.StatusActive, Plan: "yearly",
			Audience: []string{"Acme"}, Capabilities: []string{"a", "b"}, Metadata: map[string]string{"env": "prod"},
			IssuedAt: benchT0, ExpiresAt: benchT0.AddDate(1, 0, 0), MaxMachines: 1000,
			Primary: "eyJ.primary", Secondary: "eyJ.secondary",
			Machines: []controlplane.Machine{{Fingerprint: "fp1", ActivatedAt: benchT0, LeaseExpiresAt: benchT0.Add(time.Hour)}},
		}
		if err := s.CreateLicense(context.Background(), l, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// reportTrips reports the round trips per operation counted since from.
func reportTrips(b *testing.B, trips *atomic.Int64, from int64) {
	if trips != nil {
		b.ReportMetric(float64(trips.Load()-from)/float64(b.N), "roundtrips/op")
	}
}

// BenchmarkRecordBeats writes batches of 64 heartbeats, as the server's
// write-behind would.
func BenchmarkRecordBeats(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s, trips := st.open(b)
			seedBench(b, s, 1000)
			batch := make([]controlplane.Beat, 64)
			ctx := context.Background()
			var from int64
			if trips != nil {
				from = trips.Load()
			}
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
			reportTrips(b, trips, from)
		})
	}
}

// BenchmarkGetLicense reads one licence with its machine from many
// goroutines at once.
func BenchmarkGetLicense(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s, trips := st.open(b)
			seedBench(b, s, 1000)
			ctx := context.Background()
			var from int64
			if trips != nil {
				from = trips.Load()
			}
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
			reportTrips(b, trips, from)
		})
	}
}

// BenchmarkActivate binds a machine to a licence and releases it again,
// alternately: the read-modify-write of an activation.
func BenchmarkActivate(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s, trips := st.open(b)
			seedBench(b, s, 100)
			ctx := context.Background()
			var from int64
			if trips != nil {
				from = trips.Load()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := s.UpdateLicense(ctx, fmt.Sprintf("lic_%06d", i%100), func(l *controlplane.License) ([]controlplane.Event, error) {
					if len(l.Machines) > 1 {
						l.Machines = l.Machines[:1]
					} else {
						l.Machines = append(l.Machines, controlplane.Machine{Fingerprint: "fp2", ActivatedAt: benchT0})
					}
					return []controlplane.Event{{Time: benchT0, Action: "license.activate", Target: l.ID}}, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			reportTrips(b, trips, from)
		})
	}
}
