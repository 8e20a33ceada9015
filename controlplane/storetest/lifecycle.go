package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// calls exercises every method but Close once.
var calls = map[string]func(ctx context.Context, s controlplane.Store) error{
	"Ping": func(ctx context.Context, s controlplane.Store) error { return s.Ping(ctx) },
	"CreateLicense": func(ctx context.Context, s controlplane.Store) error {
		return s.CreateLicense(ctx, license("lic_new", "ten_a"), nil, event("license.issue", "lic_new", "ten_a", t0))
	},
	"GetLicense": func(ctx context.Context, s controlplane.Store) error {
		_, err := s.GetLicense(ctx, "lic_a")
		return err
	},
	"ListLicenses": func(ctx context.Context, s controlplane.Store) error {
		_, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{})
		return err
	},
	"UpdateLicense": func(ctx context.Context, s controlplane.Store) error {
		_, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			l.Status = controlplane.StatusRevoked
			return []controlplane.Event{event("license.revoke", l.ID, l.TenantID, t0)}, nil
		})
		return err
	},
	"LookupIdempotency": func(ctx context.Context, s controlplane.Store) error {
		_, err := s.LookupIdempotency(ctx, "key_1", "k")
		return err
	},
	"RecordBeats": func(ctx context.Context, s controlplane.Store) error {
		return s.RecordBeats(ctx, []controlplane.Beat{beat("lic_a", "fp1.lic_a", at(time.Hour))})
	},
	"ListMachines": func(ctx context.Context, s controlplane.Store) error {
		_, _, err := s.ListMachines(ctx, controlplane.MachineFilter{})
		return err
	},
	"Sweep": func(ctx context.Context, s controlplane.Store) error {
		_, err := s.Sweep(ctx, at(1000*24*time.Hour), "system", "req")
		return err
	},
	"GetSettings": func(ctx context.Context, s controlplane.Store) error { _, err := s.GetSettings(ctx); return err },
	"PutSettings": func(ctx context.Context, s controlplane.Store) error {
		return s.PutSettings(ctx, controlplane.Settings{Grace: time.Hour}, event("settings.update", "settings", "", t0))
	},
	"CreateSigningKey": func(ctx context.Context, s controlplane.Store) error {
		return s.CreateSigningKey(ctx, signingKey("kid_new", t0), event("signing.manage", "kid_new", "", t0))
	},
	"ListSigningKeys": func(ctx context.Context, s controlplane.Store) error { _, err := s.ListSigningKeys(ctx); return err },
	"ActivateSigningKey": func(ctx context.Context, s controlplane.Store) error {
		return s.ActivateSigningKey(ctx, "kid_1", t0, event("signing.manage", "kid_1", "", t0))
	},
	"ActivateFirstSigningKey": func(ctx context.Context, s controlplane.Store) error {
		return s.ActivateFirstSigningKey(ctx, "kid_1", t0, event("signing.manage", "kid_1", "", t0))
	},
	"RetireSigningKey": func(ctx context.Context, s controlplane.Store) error {
		return s.RetireSigningKey(ctx, "kid_2", t0, event("signing.manage", "kid_2", "", t0))
	},
	"CreateAPIKey": func(ctx context.Context, s controlplane.Store) error {
		return s.CreateAPIKey(ctx, apiKey("key_new", "ten_a", "new"), event("key.create", "key_new", "ten_a", t0))
	},
	"GetAPIKey": func(ctx context.Context, s controlplane.Store) error { _, err := s.GetAPIKey(ctx, "key_1"); return err },
	"ListAPIKeys": func(ctx context.Context, s controlplane.Store) error {
		_, _, err := s.ListAPIKeys(ctx, controlplane.APIKeyFilter{TenantID: controlplane.AllTenants})
		return err
	},
	"RevokeAPIKey": func(ctx context.Context, s controlplane.Store) error {
		return s.RevokeAPIKey(ctx, "key_1", t0, event("key.revoke", "key_1", "ten_a", t0))
	},
	"AppendEvents": func(ctx context.Context, s controlplane.Store) error {
		return s.AppendEvents(ctx, event("console.login", "x", "", t0))
	},
	"ListEvents": func(ctx context.Context, s controlplane.Store) error {
		_, _, err := s.ListEvents(ctx, controlplane.EventFilter{})
		return err
	},
	"CreateSession": func(ctx context.Context, s controlplane.Store) error {
		return s.CreateSession(ctx, session("s_new"), event("console.login", "key_1", "ten_a", t0))
	},
	"GetSession": func(ctx context.Context, s controlplane.Store) error { _, err := s.GetSession(ctx, "s_1"); return err },
	"TouchSession": func(ctx context.Context, s controlplane.Store) error {
		return s.TouchSession(ctx, "s_1", at(time.Hour))
	},
	"DeleteSession": func(ctx context.Context, s controlplane.Store) error { return s.DeleteSession(ctx, "s_2") },
	"DeleteExpiredSessions": func(ctx context.Context, s controlplane.Store) error {
		_, err := s.DeleteExpiredSessions(ctx, at(1000*24*time.Hour), at(1000*24*time.Hour))
		return err
	},
}

// seed stores one of each object that calls touch.
func seed(t *testing.T, s controlplane.Store) {
	t.Helper()
	l := license("lic_a", "ten_a")
	l.ExpiresAt = at(time.Hour)
	mustCreate(t, s, l)
	noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_1", t0)))
	noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey("kid_2", t0)))
	noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey("key_1", "ten_a", "ci")))
	noErr(t, "CreateSession", s.CreateSession(ctx, session("s_1")))
	noErr(t, "CreateSession", s.CreateSession(ctx, session("s_2")))
}

var lifecycleTests = []subtest{
	{"Ping", func(t *testing.T, s controlplane.Store) {
		noErr(t, "Ping", s.Ping(ctx))
	}},
	{"EveryCallWorksOnASeededStore", func(t *testing.T, s controlplane.Store) {
		seed(t, s)
		for _, name := range sortedKeys(calls) {
			if err := calls[name](ctx, s); err != nil && !errors.Is(err, controlplane.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
	}},
	{"CancelledContext", func(t *testing.T, s controlplane.Store) {
		seed(t, s)
		before := allLicenses(t, s)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		for _, name := range sortedKeys(calls) {
			err := calls[name](cancelled, s)
			if !errors.Is(err, controlplane.ErrUnavailable) || !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled ctx: %v, want ErrUnavailable and context.Canceled", name, err)
			}
		}
		same(t, "licences after cancelled calls", before, allLicenses(t, s))
		wantEventCount(t, s, 0)
		_, err := s.GetSettings(ctx)
		wantErr(t, "settings after a cancelled PutSettings", err, controlplane.ErrNotFound)
		noErr(t, "Ping after cancelled calls", s.Ping(ctx))
	}},
	{"Close", func(t *testing.T, s controlplane.Store) {
		seed(t, s)
		noErr(t, "Close", s.Close())
		for _, name := range sortedKeys(calls) {
			if err := calls[name](ctx, s); !errors.Is(err, controlplane.ErrUnavailable) {
				t.Errorf("%s after Close: %v, want ErrUnavailable", name, err)
			}
		}
		noErr(t, "second Close", s.Close())
	}},
}
