package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
	"github.com/licensekit/licensekit/controlplane/storetest"
)

func TestCopiesInAndOut(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	l := controlplane.License{ID: "lic_1", Capabilities: []string{"a"}, Metadata: map[string]string{"k": "v"},
		Machines: []controlplane.Machine{{Fingerprint: "fp1", ActivatedAt: time.Unix(1, 1500)}}}
	if err := s.CreateLicense(ctx, l, nil); err != nil {
		t.Fatal(err)
	}
	l.Capabilities[0], l.Metadata["k"], l.Machines[0].Fingerprint = "x", "x", "x"
	got, err := s.GetLicense(ctx, "lic_1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Capabilities[0] != "a" || got.Metadata["k"] != "v" || got.Machines[0].Fingerprint != "fp1" {
		t.Fatalf("stored licence changed through the caller's value: %+v", got)
	}
	if got.Machines[0].LicenseID != "lic_1" || !got.Machines[0].ActivatedAt.Equal(time.Unix(1, 1000)) {
		t.Fatalf("machine not owned or not kept to the microsecond: %+v", got.Machines[0])
	}
	if err := s.CreateLicense(ctx, l, nil); !errors.Is(err, controlplane.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) controlplane.Store { return memstore.New() })
}
