package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

// TestIndexedStringTooLong: PostgreSQL cannot index an entry of more
// than about 2.7 KB once compressed. An identifier that long and random
// is refused as ErrInvalid (the caller's 400), not as an unavailable
// store, and nothing of the call is stored.
func TestIndexedStringTooLong(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, freshDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := make([]byte, 4<<10)
	rand.Read(b)
	long := hex.EncodeToString(b)
	for name, l := range map[string]controlplane.License{
		"fingerprint": {ID: "lic_a", Machines: []controlplane.Machine{{Fingerprint: long}}},
		"tenant":      {ID: "lic_b", TenantID: long},
	} {
		err := s.CreateLicense(ctx, l, nil, controlplane.Event{Action: "license.issue", Target: l.ID})
		if !errors.Is(err, controlplane.ErrInvalid) {
			t.Errorf("CreateLicense with a random %d-byte %s: %v, want ErrInvalid", len(long), name, err)
		}
		if _, err := s.GetLicense(ctx, l.ID); !errors.Is(err, controlplane.ErrNotFound) {
			t.Errorf("licence of the refused create: %v", err)
		}
	}
	if err := s.AppendEvents(ctx, controlplane.Event{Action: "a", Target: long}); !errors.Is(err, controlplane.ErrInvalid) {
		t.Errorf("AppendEvents with a random %d-byte target: %v, want ErrInvalid", len(long), err)
	}
	if evs, _, err := s.ListEvents(ctx, controlplane.EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("events after refusals: %d, %v", len(evs), err)
	}
}
