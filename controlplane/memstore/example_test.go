package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

func Example() {
	ctx := context.Background()
	s := memstore.New()
	defer s.Close()

	issued := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := controlplane.License{
		ID: "lic_1", TenantID: "ten_a", Status: controlplane.StatusActive,
		IssuedAt: issued, ExpiresAt: issued.AddDate(1, 0, 0), MaxMachines: 1,
	}
	if err := s.CreateLicense(ctx, l, nil, controlplane.Event{Time: issued, Action: "license.issue", Target: l.ID}); err != nil {
		fmt.Println(err)
		return
	}
	got, _ := s.UpdateLicense(ctx, "lic_1", func(l *controlplane.License) ([]controlplane.Event, error) {
		l.Status = controlplane.StatusSuspended
		return []controlplane.Event{{Time: issued.Add(time.Hour), Action: "license.suspend", Target: l.ID}}, nil
	})
	fmt.Println(got.ID, got.Status)

	events, _, _ := s.ListEvents(ctx, controlplane.EventFilter{})
	for _, e := range events {
		fmt.Println(e.Seq, e.Action)
	}
	_, err := s.GetLicense(ctx, "lic_2")
	fmt.Println(err)
	// Output:
	// lic_1 suspended
	// 2 license.suspend
	// 1 license.issue
	// memstore: licence "lic_2": controlplane: not found
}
