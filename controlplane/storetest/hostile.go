package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// hostile are identifiers a careless store would mangle or execute.
var hostile = []string{
	`lic_'quote`, `lic_"double"`, `lic_'; DROP TABLE licenses; --`, `lic_" OR 1=1 --`,
	`../../etc/passwd`, `..\..\windows`, `lic_%`, `lic__`, `lic_*`, "lic_\ttab\nline",
	"lic_ünï", "lic_\u2028", "lic_😀", strings.Repeat("x", 10<<10), " ", "lic_\\",
}

// refusable are strings a store may refuse with ErrInvalid (PostgreSQL
// text holds neither), but must not mangle.
var refusable = []string{"lic_\x00nul", "\x00", "lic_\xff\xfe", "lic_\xc3"}

var hostileTests = []subtest{
	{"IdentifiersRoundTrip", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_plain", "ten_a"))
		for _, id := range hostile {
			l := license(id, id)
			l.Machines = []controlplane.Machine{machine(id)}
			l.Metadata = map[string]string{id: id}
			l.Capabilities = []string{id}
			l.Primary = id
			noErr(t, fmt.Sprintf("CreateLicense(%.20q)", id), s.CreateLicense(ctx, l, &controlplane.Idempotency{Actor: id, Key: id, LicenseID: id}, event(id, id, id, t0)))
			same(t, fmt.Sprintf("licence %.20q", id), owned(l), mustGet(t, s, id))
			noErr(t, "RecordBeats", s.RecordBeats(ctx, []controlplane.Beat{beat(id, id, at(time.Hour))}))
			if got := mustGet(t, s, id).Machines[0]; !got.LastHeartbeatAt.Equal(at(time.Hour)) {
				t.Fatalf("beat of %.20q not recorded", id)
			}
			idem, err := s.LookupIdempotency(ctx, id, id)
			noErr(t, "LookupIdempotency", err)
			if idem.LicenseID != id {
				t.Fatalf("idempotency entry of %.20q: %+v", id, idem)
			}
			ls, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{TenantID: id, IDPrefix: id})
			noErr(t, "ListLicenses", err)
			if len(ls) != 1 || ls[0].ID != id {
				t.Fatalf("licences of tenant %.20q: %q", id, ids(ls))
			}
			ms, _, err := s.ListMachines(ctx, controlplane.MachineFilter{LicenseID: id, Page: controlplane.Page{Limit: 1}})
			noErr(t, "ListMachines", err)
			if len(ms) != 1 || ms[0].Fingerprint != id {
				t.Fatalf("machines of %.20q: %+v", id, ms)
			}
			evs, _, err := s.ListEvents(ctx, controlplane.EventFilter{Target: id, Actor: "key_actor", Action: id, TenantID: id})
			noErr(t, "ListEvents", err)
			if len(evs) != 1 {
				t.Fatalf("events of %.20q: %d", id, len(evs))
			}
			noErr(t, "CreateAPIKey", s.CreateAPIKey(ctx, apiKey(id, id, id)))
			k, err := s.GetAPIKey(ctx, id)
			noErr(t, "GetAPIKey", err)
			same(t, "API key", apiKey(id, id, id), k)
			noErr(t, "CreateSigningKey", s.CreateSigningKey(ctx, signingKey(id, t0)))
		}
		// Everything is still there: nothing was executed.
		mustGet(t, s, "lic_plain")
		if got := len(allLicenses(t, s)); got != len(hostile)+1 {
			t.Fatalf("%d licences, want %d", got, len(hostile)+1)
		}
		ks, err := s.ListSigningKeys(ctx)
		noErr(t, "ListSigningKeys", err)
		if len(ks) != len(hostile) {
			t.Fatalf("%d signing keys, want %d", len(ks), len(hostile))
		}
		// A prefix is a prefix, not a pattern.
		ls, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{IDPrefix: "lic_%", Page: controlplane.Page{Limit: 1000}})
		noErr(t, "ListLicenses", err)
		if len(ls) != 1 || ls[0].ID != "lic_%" {
			t.Fatalf("prefix lic_%%: %q", ids(ls))
		}
	}},
	{"RefusedOrKeptAsGiven", func(t *testing.T, s controlplane.Store) {
		for _, id := range refusable {
			l := license(id, "ten_a")
			l.Machines = []controlplane.Machine{machine(id)}
			err := s.CreateLicense(ctx, l, nil, event("license.issue", id, "ten_a", t0))
			if errors.Is(err, controlplane.ErrInvalid) {
				_, gerr := s.GetLicense(ctx, id)
				wantErr(t, fmt.Sprintf("GetLicense(%q) after a refusal", id), gerr, controlplane.ErrNotFound)
				continue
			}
			noErr(t, fmt.Sprintf("CreateLicense(%q)", id), err)
			same(t, fmt.Sprintf("licence %q", id), owned(l), mustGet(t, s, id))
		}
		for i, v := range refusable {
			l := license(fmt.Sprintf("lic_meta%d", i), "ten_a")
			l.Metadata, l.Capabilities = map[string]string{"k": v, v: "v"}, []string{v}
			err := s.CreateLicense(ctx, l, nil)
			if errors.Is(err, controlplane.ErrInvalid) {
				_, gerr := s.GetLicense(ctx, l.ID)
				wantErr(t, fmt.Sprintf("GetLicense after refusing metadata %q", v), gerr, controlplane.ErrNotFound)
				continue
			}
			noErr(t, fmt.Sprintf("CreateLicense with metadata %q", v), err)
			same(t, fmt.Sprintf("metadata %q", v), owned(l), mustGet(t, s, l.ID))
		}
	}},
	{"TimesOutOfRange", func(t *testing.T, s controlplane.Store) {
		for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)} {
			l := license("lic_a", "ten_a")
			l.ExpiresAt = tm
			wantErr(t, fmt.Sprintf("CreateLicense expiring %v", tm), s.CreateLicense(ctx, l, nil, event("license.issue", "lic_a", "ten_a", t0)), controlplane.ErrInvalid)
			wantErr(t, "AppendEvents", s.AppendEvents(ctx, event("a", "b", "", tm)), controlplane.ErrInvalid)
		}
		_, err := s.GetLicense(ctx, "lic_a")
		wantErr(t, "GetLicense after refusals", err, controlplane.ErrNotFound)
		wantEventCount(t, s, 0)
	}},
}
