package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "licensekit")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := sqlite.Open(ctx, filepath.Join(dir, "licensekit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	issued := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err = s.CreateLicense(ctx, controlplane.License{ID: "lic_1", TenantID: "ten_a", Status: controlplane.StatusActive,
		IssuedAt: issued, ExpiresAt: issued.AddDate(1, 0, 0)}, nil,
		controlplane.Event{Time: issued, Actor: "key_admin", Action: "license.issue", Target: "lic_1", TenantID: "ten_a"})
	fmt.Println("issued:", err)
	s.Close()

	// What was acknowledged is there after a restart.
	s, err = sqlite.Open(ctx, filepath.Join(dir, "licensekit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	l, err := s.GetLicense(ctx, "lic_1")
	fmt.Println(l.ID, l.Status, l.ExpiresAt.Format(time.DateOnly), err)
	fmt.Println("schema version", sqlite.SchemaVersion())
	// Output:
	// issued: <nil>
	// lic_1 active 2026-01-01 <nil>
	// schema version 2
}
