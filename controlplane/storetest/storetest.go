package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; Run closes every store it opens (a second Close must
// be nil). Run's subtests run one after another.
func Run(t *testing.T, open func(t *testing.T) controlplane.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"License", licenseTests},
		{"Update", updateTests},
		{"Paging", pagingTests},
		{"Machines", machineTests},
		{"Sweep", sweepTests},
		{"Settings", settingsTests},
		{"SigningKeys", signingTests},
		{"APIKeys", apiKeyTests},
		{"Events", eventTests},
		{"Sessions", sessionTests},
		{"Hostile", hostileTests},
		{"Lifecycle", lifecycleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					st.run(t, s)
				})
			}
		})
	}
}

type subtest struct {
	name string
	run  func(t *testing.T, s controlplane.Store)
}

// t0 is the suite's reference time: microsecond precision, in UTC, so that
// what a store keeps equals what it was given.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 890123000, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

var ctx = context.Background()

// license returns a licence with every field set and one machine.
func license(id, tenant string) controlplane.License {
	return controlplane.License{
		ID:                id,
		TenantID:          tenant,
		Audience:          []string{"Acme Health GmbH", "Acme AG"},
		Subject:           "sub_" + id,
		TenantCountry:     "DE",
		Plan:              "yearly",
		Status:            controlplane.StatusActive,
		Capabilities:      []string{"kyc:write", "kyc:read"},
		Metadata:          map[string]string{"environment": "production", "owner": "ops"},
		IssuedAt:          t0,
		ExpiresAt:         at(365 * 24 * time.Hour),
		MaxMachines:       2,
		Primary:           "eyJ.primary." + id,
		Secondary:         "eyJ.secondary." + id,
		PrimaryDigest:     "aa11",
		SecondaryDigest:   "bb22",
		HeartbeatInterval: time.Hour,
		Grace:             72 * time.Hour,
		UpdatedAt:         t0,
		Machines:          []controlplane.Machine{machine("fp1." + id)},
	}
}

func machine(fp string) controlplane.Machine {
	return controlplane.Machine{
		Fingerprint:     fp,
		ActivatedAt:     t0,
		IdempotencyKey:  "idem-" + fp,
		LastHeartbeatAt: t0,
		DueAt:           at(90 * time.Minute),
		LeaseIssuedAt:   t0,
		LeaseExpiresAt:  at(72 * time.Hour),
		KeySlot:         controlplane.SlotPrimary,
		KeyDigest:       "aa11",
	}
}

func event(action, target, tenant string, when time.Time) controlplane.Event {
	return controlplane.Event{
		Time: when, Actor: "key_actor", Action: action, Target: target, TenantID: tenant,
		RequestID: "req_" + action, Details: map[string]string{"k": "v"},
	}
}

// owned is what a store makes of l's machines: owned by l.
func owned(l controlplane.License) controlplane.License {
	l.Machines = slices.Clone(l.Machines)
	for i := range l.Machines {
		l.Machines[i].LicenseID, l.Machines[i].TenantID = l.ID, l.TenantID
	}
	return l
}

func mustCreate(t *testing.T, s controlplane.Store, ls ...controlplane.License) {
	t.Helper()
	for _, l := range ls {
		if err := s.CreateLicense(ctx, l, nil); err != nil {
			t.Fatalf("CreateLicense(%q): %v", l.ID, err)
		}
	}
}

func mustGet(t *testing.T, s controlplane.Store, id string) controlplane.License {
	t.Helper()
	l, err := s.GetLicense(ctx, id)
	if err != nil {
		t.Fatalf("GetLicense(%q): %v", id, err)
	}
	return l
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// allEvents returns every stored event, newest first.
func allEvents(t *testing.T, s controlplane.Store) []controlplane.Event {
	t.Helper()
	var out []controlplane.Event
	cursor := ""
	for {
		page, next, err := s.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Limit: 1000, Cursor: cursor}})
		noErr(t, "ListEvents", err)
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func wantEventCount(t *testing.T, s controlplane.Store, n int) {
	t.Helper()
	if got := len(allEvents(t, s)); got != n {
		t.Fatalf("stored events: %d, want %d", got, n)
	}
}

// same fails unless want and got are equal once nil and empty slices and
// maps count alike and times are compared as instants.
func same(t *testing.T, what string, want, got any) {
	t.Helper()
	w, g := canon(reflect.ValueOf(want)), canon(reflect.ValueOf(got))
	if !reflect.DeepEqual(w.Interface(), g.Interface()) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// canon returns a copy of v in a canonical form for DeepEqual.
func canon(v reflect.Value) reflect.Value {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			t = time.Time{}
		} else {
			t = t.Round(0).UTC()
		}
		return reflect.ValueOf(t)
	}
	switch v.Kind() {
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			c.Field(i).Set(canon(v.Field(i)))
		}
		return c
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(canon(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			c.SetMapIndex(k, canon(v.MapIndex(k)))
		}
		return c
	default:
		return v
	}
}

// ids returns the IDs of licences.
func ids(ls []controlplane.License) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func fmtIDs(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}
