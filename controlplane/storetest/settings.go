package storetest

import (
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

var settingsTests = []subtest{
	{"NoneStored", func(t *testing.T, s controlplane.Store) {
		_, err := s.GetSettings(ctx)
		wantErr(t, "GetSettings", err, controlplane.ErrNotFound)
	}},
	{"PutGetCopies", func(t *testing.T, s controlplane.Store) {
		st := controlplane.Settings{
			Grace: 72 * time.Hour, HeartbeatInterval: time.Hour, OfflineLeaseTTL: 30 * 24 * time.Hour,
			PlanTTLs:  map[string]time.Duration{"monthly": 31 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour},
			UpdatedAt: t0,
		}
		want := st
		want.PlanTTLs = map[string]time.Duration{"monthly": 31 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour}
		noErr(t, "PutSettings", s.PutSettings(ctx, st, event("settings.update", "settings", "", t0)))
		st.PlanTTLs["monthly"] = time.Second
		got, err := s.GetSettings(ctx)
		noErr(t, "GetSettings", err)
		same(t, "settings", want, got)
		got.PlanTTLs["yearly"] = time.Second
		again, err := s.GetSettings(ctx)
		noErr(t, "GetSettings", err)
		same(t, "settings after changing a returned value", want, again)
		wantEventCount(t, s, 1)

		next := controlplane.Settings{Grace: time.Hour, UpdatedAt: at(time.Hour)}
		noErr(t, "PutSettings", s.PutSettings(ctx, next))
		got, err = s.GetSettings(ctx)
		noErr(t, "GetSettings", err)
		same(t, "settings replaced", next, got)
		wantEventCount(t, s, 1)
	}},
}
