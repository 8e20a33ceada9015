package storetest

import (
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

var licenseTests = []subtest{
	{"CreateGetRoundTrip", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines = append(l.Machines, machine("fp2"))
		l.Machines[1].Offline = true
		l.Machines[1].ReleasedAt = at(time.Minute)
		l.Machines[1].Dead = true
		ev := event("license.issue", l.ID, l.TenantID, t0)
		noErr(t, "CreateLicense", s.CreateLicense(ctx, l, nil, ev))
		got := mustGet(t, s, l.ID)
		same(t, "GetLicense", owned(l), got)
		evs := allEvents(t, s)
		if len(evs) != 1 || evs[0].Seq <= 0 {
			t.Fatalf("events after create: %+v", evs)
		}
		ev.Seq = evs[0].Seq
		same(t, "stored event", ev, evs[0])
	}},
	{"MachinesKeepTheirOrder", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines = []controlplane.Machine{machine("fp_z"), machine("fp_a"), machine("fp_m")}
		mustCreate(t, s, l)
		same(t, "machines in activation order", owned(l).Machines, mustGet(t, s, l.ID).Machines)
	}},
	{"MachinesOwnedByTheLicence", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines[0].LicenseID, l.Machines[0].TenantID = "lic_other", "ten_other"
		mustCreate(t, s, l)
		m := mustGet(t, s, l.ID).Machines[0]
		if m.LicenseID != "lic_a" || m.TenantID != "ten_a" {
			t.Fatalf("machine kept the caller's owner: %+v", m)
		}
	}},
	{"NoMachines", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines = nil
		mustCreate(t, s, l)
		if got := mustGet(t, s, l.ID); len(got.Machines) != 0 {
			t.Fatalf("machines of an unbound licence: %+v", got.Machines)
		}
	}},
	{"ExistingIDIsAlreadyExists", func(t *testing.T, s controlplane.Store) {
		first := license("lic_a", "ten_a")
		mustCreate(t, s, first)
		second := license("lic_a", "ten_b")
		second.Plan = "monthly"
		wantErr(t, "second CreateLicense", s.CreateLicense(ctx, second, nil, event("license.issue", "lic_a", "ten_b", t0)), controlplane.ErrAlreadyExists)
		same(t, "first licence after a refused create", owned(first), mustGet(t, s, "lic_a"))
		wantEventCount(t, s, 0)
	}},
	{"FingerprintTwiceIsInvalid", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.Machines = append(l.Machines, l.Machines[0])
		wantErr(t, "CreateLicense", s.CreateLicense(ctx, l, nil, event("license.issue", "lic_a", "ten_a", t0)), controlplane.ErrInvalid)
		_, err := s.GetLicense(ctx, "lic_a")
		wantErr(t, "GetLicense after a refused create", err, controlplane.ErrNotFound)
		wantEventCount(t, s, 0)
	}},
	{"GetUnknownIsNotFound", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		for _, id := range []string{"lic_b", "", "LIC_A", "lic_a "} {
			_, err := s.GetLicense(ctx, id)
			wantErr(t, "GetLicense("+id+")", err, controlplane.ErrNotFound)
		}
	}},
	{"Idempotency", func(t *testing.T, s controlplane.Store) {
		idem := controlplane.Idempotency{Actor: "key_1", Key: "k-1", RequestHash: "abcd", LicenseID: "lic_a", CreatedAt: t0}
		noErr(t, "CreateLicense", s.CreateLicense(ctx, license("lic_a", "ten_a"), &idem))
		got, err := s.LookupIdempotency(ctx, "key_1", "k-1")
		noErr(t, "LookupIdempotency", err)
		same(t, "idempotency entry", idem, got)

		err = s.CreateLicense(ctx, license("lic_b", "ten_a"), &controlplane.Idempotency{Actor: "key_1", Key: "k-1", LicenseID: "lic_b", CreatedAt: t0},
			event("license.issue", "lic_b", "ten_a", t0))
		wantErr(t, "CreateLicense under a used key", err, controlplane.ErrAlreadyExists)
		_, err = s.GetLicense(ctx, "lic_b")
		wantErr(t, "licence of the refused retry", err, controlplane.ErrNotFound)
		wantEventCount(t, s, 0)
		got, err = s.LookupIdempotency(ctx, "key_1", "k-1")
		noErr(t, "LookupIdempotency after the retry", err)
		same(t, "entry after the retry", idem, got)

		// The same key of another actor is another entry.
		other := controlplane.Idempotency{Actor: "key_2", Key: "k-1", LicenseID: "lic_c", CreatedAt: t0}
		noErr(t, "CreateLicense of another actor", s.CreateLicense(ctx, license("lic_c", "ten_a"), &other))
		got, err = s.LookupIdempotency(ctx, "key_2", "k-1")
		noErr(t, "LookupIdempotency of another actor", err)
		same(t, "other actor's entry", other, got)

		for _, k := range [][2]string{{"key_1", "k-2"}, {"key_3", "k-1"}, {"", ""}} {
			_, err := s.LookupIdempotency(ctx, k[0], k[1])
			wantErr(t, "LookupIdempotency of an unknown entry", err, controlplane.ErrNotFound)
		}
	}},
	{"IdempotencyNotRecordedWhenIDExists", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		idem := controlplane.Idempotency{Actor: "key_1", Key: "k-1", LicenseID: "lic_a", CreatedAt: t0}
		wantErr(t, "CreateLicense of a known ID", s.CreateLicense(ctx, license("lic_a", "ten_a"), &idem), controlplane.ErrAlreadyExists)
		_, err := s.LookupIdempotency(ctx, "key_1", "k-1")
		wantErr(t, "entry of a refused create", err, controlplane.ErrNotFound)
	}},
	{"CopiesInAndOut", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		want := owned(license("lic_a", "ten_a"))
		noErr(t, "CreateLicense", s.CreateLicense(ctx, l, nil))
		l.Audience[0], l.Capabilities[0], l.Metadata["environment"] = "x", "x", "x"
		l.Machines[0].Fingerprint = "x"
		got := mustGet(t, s, "lic_a")
		same(t, "after changing the value given", want, got)

		got.Audience[0], got.Capabilities[0], got.Metadata["owner"] = "y", "y", "y"
		got.Machines[0].KeySlot = "y"
		got.Machines = append(got.Machines, machine("y"))
		same(t, "after changing a value returned", want, mustGet(t, s, "lic_a"))

		list, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{})
		noErr(t, "ListLicenses", err)
		list[0].Metadata["environment"] = "z"
		list[0].Machines[0].Fingerprint = "z"
		same(t, "after changing a listed value", want, mustGet(t, s, "lic_a"))

		var kept *controlplane.License
		updated, err := s.UpdateLicense(ctx, "lic_a", func(l *controlplane.License) ([]controlplane.Event, error) {
			kept = l
			return nil, nil
		})
		noErr(t, "UpdateLicense", err)
		kept.Capabilities[0], kept.Machines[0].Fingerprint, kept.Status = "w", "w", "w"
		updated.Metadata["environment"], updated.Machines[0].Fingerprint = "v", "v"
		same(t, "after changing fn's value and the update's result", want, mustGet(t, s, "lic_a"))

		ms, _, err := s.ListMachines(ctx, controlplane.MachineFilter{})
		noErr(t, "ListMachines", err)
		ms[0].Fingerprint = "u"
		same(t, "after changing a listed machine", want, mustGet(t, s, "lic_a"))
	}},
	{"TimesToTheMicrosecondInUTC", func(t *testing.T, s controlplane.Store) {
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		fine := time.Date(2031, 3, 4, 10, 36, 7, 123456789, zone)
		l := license("lic_a", "ten_a")
		l.IssuedAt, l.ExpiresAt = fine, time.Now().Add(time.Hour) // time.Now has a monotonic reading
		l.Machines[0].ActivatedAt = fine
		l.Machines[0].ReleasedAt = time.Time{}
		mustCreate(t, s, l)
		got := mustGet(t, s, "lic_a")
		want := fine.Truncate(time.Microsecond)
		for name, tm := range map[string]time.Time{"IssuedAt": got.IssuedAt, "ActivatedAt": got.Machines[0].ActivatedAt} {
			if !tm.Equal(want) || tm.Location() != time.UTC {
				t.Errorf("%s = %v, want %v in UTC", name, tm, want.UTC())
			}
		}
		if w := l.ExpiresAt.Truncate(time.Microsecond); !got.ExpiresAt.Equal(w) {
			t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, w)
		}
		if !got.Machines[0].ReleasedAt.IsZero() {
			t.Errorf("zero ReleasedAt came back as %v", got.Machines[0].ReleasedAt)
		}
	}},
	{"WideValues", func(t *testing.T, s controlplane.Store) {
		l := license("lic_a", "ten_a")
		l.IssuedAt = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
		l.ExpiresAt = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		l.MaxMachines = 1 << 30
		l.HeartbeatInterval, l.Grace = -time.Second, time.Duration(1<<62)
		l.Metadata = map[string]string{"": "", "ü": "\u2028", "quote'\"": "; DROP TABLE licenses; --"}
		l.Audience, l.Capabilities = []string{""}, nil
		mustCreate(t, s, l)
		same(t, "licence of wide values", owned(l), mustGet(t, s, "lic_a"))
	}},
}
