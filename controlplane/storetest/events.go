package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func targets(evs []controlplane.Event) string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Target
	}
	return strings.Join(out, " ")
}

func walkEvents(t *testing.T, s controlplane.Store, f controlplane.EventFilter, n int) []controlplane.Event {
	t.Helper()
	var out []controlplane.Event
	f.Limit = n
	for pages := 0; ; pages++ {
		if pages > 2000 {
			t.Fatal("ListEvents: the cursor never reaches the end")
		}
		page, next, err := s.ListEvents(ctx, f)
		noErr(t, "ListEvents", err)
		if len(page) > n {
			t.Fatalf("page of %d for limit %d", len(page), n)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

var eventTests = []subtest{
	{"NewestFirstWithSeq", func(t *testing.T, s controlplane.Store) {
		e1 := event("license.issue", "t1", "ten_a", t0)
		e1.Seq = 999
		noErr(t, "AppendEvents", s.AppendEvents(ctx, e1, event("license.issue", "t2", "ten_a", t0)))
		noErr(t, "AppendEvents of nothing", s.AppendEvents(ctx))
		mustCreate(t, s, license("lic_a", "ten_a"))
		noErr(t, "CreateLicense", s.CreateLicense(ctx, license("lic_b", "ten_a"), nil, event("license.issue", "t3", "ten_a", at(-time.Hour))))
		noErr(t, "AppendEvents", s.AppendEvents(ctx, event("console.login", "t4", "", at(-2*time.Hour))))
		evs := allEvents(t, s)
		if got := targets(evs); got != "t4 t3 t2 t1" {
			t.Fatalf("events newest first: %q", got)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq >= evs[i-1].Seq {
				t.Fatalf("Seq not decreasing newest first: %d then %d", evs[i-1].Seq, evs[i].Seq)
			}
		}
		e1.Seq = evs[3].Seq
		same(t, "stored event", e1, evs[3])
		evs[3].Details["k"] = "changed"
		same(t, "after changing a returned event", e1, allEvents(t, s)[3])

		given := event("a", "t5", "", t0)
		noErr(t, "AppendEvents", s.AppendEvents(ctx, given))
		given.Details["k"] = "changed"
		if got := allEvents(t, s)[0]; got.Details["k"] != "v" {
			t.Fatalf("stored event changed through the caller's value: %+v", got)
		}
	}},
	{"FiltersAndTenants", func(t *testing.T, s controlplane.Store) {
		var all []controlplane.Event
		for i := range 40 {
			e := controlplane.Event{
				Time:      at(time.Duration(i) * time.Minute),
				Actor:     []string{"key_1", "key_2", "system"}[i%3],
				Action:    []string{"license.issue", "license.revoke"}[i%2],
				Target:    fmt.Sprintf("lic_%02d", i%5),
				TenantID:  []string{"ten_a", "ten_b", "ten_a", ""}[i%4],
				RequestID: fmt.Sprint(i),
			}
			all = append(all, e)
		}
		noErr(t, "AppendEvents", s.AppendEvents(ctx, all...))
		cases := []controlplane.EventFilter{
			{},
			{Action: "license.revoke"},
			{Target: "lic_03"},
			{Actor: "system"},
			{TenantID: "ten_a"},
			{TenantID: "ten_b", Action: "license.revoke"},
			{Since: at(30 * time.Minute)},
			{Since: at(30*time.Minute + time.Microsecond)},
			{TenantID: "ten_a", Actor: "key_1", Since: at(10 * time.Minute)},
			{Action: "license.issue", Target: "lic_01", TenantID: "ten_b"},
			{Action: "nothing"},
			{TenantID: "ten_c"},
		}
		for _, f := range cases {
			var want []string
			for i := len(all) - 1; i >= 0; i-- {
				e := all[i]
				if (f.Action == "" || e.Action == f.Action) && (f.Target == "" || e.Target == f.Target) &&
					(f.Actor == "" || e.Actor == f.Actor) && (f.TenantID == "" || e.TenantID == f.TenantID) &&
					(f.Since.IsZero() || !e.Time.Before(f.Since)) {
					want = append(want, e.RequestID)
				}
			}
			for _, n := range []int{1, 3, 100} {
				evs := walkEvents(t, s, f, n)
				got := make([]string, len(evs))
				for i, e := range evs {
					got[i] = e.RequestID
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("filter %+v limit %d:\n got %q\nwant %q", f, n, got, want)
				}
			}
		}
	}},
	{"Limits", func(t *testing.T, s controlplane.Store) {
		evs := make([]controlplane.Event, bulk)
		for i := range evs {
			evs[i] = event("license.issue", fmt.Sprint(i), "", t0)
		}
		noErr(t, "AppendEvents", s.AppendEvents(ctx, evs...))
		for _, c := range []struct{ limit, n int }{{0, 100}, {-1, 100}, {1, 1}, {1000, 1000}, {1001, 1000}} {
			page, next, err := s.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Limit: c.limit}})
			noErr(t, "ListEvents", err)
			if len(page) != c.n || page[0].Target != fmt.Sprint(bulk-1) || next == "" {
				t.Fatalf("limit %d: %d events from %q, next %q", c.limit, len(page), page[0].Target, next)
			}
		}
		got := walkEvents(t, s, controlplane.EventFilter{}, 1000)
		if len(got) != bulk || got[bulk-1].Target != "0" {
			t.Fatalf("walk: %d events", len(got))
		}
		// A full last page still ends the walk.
		if got := walkEvents(t, s, controlplane.EventFilter{}, bulk); len(got) != bulk {
			t.Fatalf("walk in one page: %d events", len(got))
		}
	}},
	{"NewEventsAheadOfTheCursor", func(t *testing.T, s controlplane.Store) {
		noErr(t, "AppendEvents", s.AppendEvents(ctx, event("a", "t1", "", t0), event("a", "t2", "", t0), event("a", "t3", "", t0)))
		page, next, err := s.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Limit: 2}})
		noErr(t, "ListEvents", err)
		if targets(page) != "t3 t2" {
			t.Fatalf("first page %q", targets(page))
		}
		noErr(t, "AppendEvents", s.AppendEvents(ctx, event("a", "t4", "", t0)))
		page, next, err = s.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Limit: 2, Cursor: next}})
		noErr(t, "ListEvents", err)
		if targets(page) != "t1" || next != "" {
			t.Fatalf("second page %q next %q, want the events older than t2", targets(page), next)
		}
	}},
}
