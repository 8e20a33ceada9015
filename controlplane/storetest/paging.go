package storetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// bulk is more than the largest page.
const bulk = 1005

// createBulk stores bulk bare licences, lic_0000…, in a shuffled order.
func createBulk(t *testing.T, s controlplane.Store) []string {
	t.Helper()
	want := fmtIDs("lic_%04d", bulk)
	order := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, id := range order {
		mustCreate(t, s, controlplane.License{ID: id, TenantID: "ten_a", Status: controlplane.StatusActive, IssuedAt: t0})
	}
	return want
}

// walkLicenses pages through f with limit n and returns every ID.
func walkLicenses(t *testing.T, s controlplane.Store, f controlplane.LicenseFilter, n int) []string {
	t.Helper()
	var out []string
	f.Limit = n
	for pages := 0; ; pages++ {
		if pages > bulk+1 {
			t.Fatal("ListLicenses: the cursor never reaches the end")
		}
		page, next, err := s.ListLicenses(ctx, f)
		noErr(t, "ListLicenses", err)
		if len(page) > n {
			t.Fatalf("page of %d for limit %d", len(page), n)
		}
		out = append(out, ids(page)...)
		if next == "" {
			return out
		}
		if len(page) == 0 {
			t.Fatal("ListLicenses: an empty page with a next cursor")
		}
		f.Cursor = next
	}
}

var pagingTests = []subtest{
	{"Limits", func(t *testing.T, s controlplane.Store) {
		want := createBulk(t, s)
		for _, c := range []struct{ limit, n int }{{0, 100}, {-5, 100}, {1, 1}, {1000, 1000}, {1001, 1000}, {math.MaxInt, 1000}} {
			page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: c.limit}})
			noErr(t, "ListLicenses", err)
			if !slices.Equal(ids(page), want[:c.n]) {
				t.Fatalf("limit %d: %d licences from %q, want the first %d", c.limit, len(page), ids(page)[:1], c.n)
			}
			if next == "" {
				t.Fatalf("limit %d: no next cursor with %d licences left", c.limit, bulk-c.n)
			}
		}
	}},
	{"WalkToTheEnd", func(t *testing.T, s controlplane.Store) {
		want := createBulk(t, s)
		for _, n := range []int{1000, 67, bulk} {
			if got := walkLicenses(t, s, controlplane.LicenseFilter{}, n); !slices.Equal(got, want) {
				t.Fatalf("walk with limit %d: %d licences, want %d in ascending order", n, len(got), len(want))
			}
		}
		// A full last page still ends the walk.
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 5, Cursor: cursorBefore(t, s, want[bulk-5])}})
		noErr(t, "ListLicenses", err)
		if !slices.Equal(ids(page), want[bulk-5:]) || next != "" {
			t.Fatalf("last full page: %q, next %q; want %q and \"\"", ids(page), next, want[bulk-5:])
		}
	}},
	{"EmptyStore", func(t *testing.T, s controlplane.Store) {
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{})
		noErr(t, "ListLicenses", err)
		if len(page) != 0 || next != "" {
			t.Fatalf("empty store listed %d, next %q", len(page), next)
		}
	}},
	{"NewLicenceBehindTheCursor", func(t *testing.T, s controlplane.Store) {
		for _, id := range []string{"lic_b", "lic_d", "lic_f"} {
			mustCreate(t, s, license(id, "ten_a"))
		}
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 2}})
		noErr(t, "ListLicenses", err)
		if !slices.Equal(ids(page), []string{"lic_b", "lic_d"}) {
			t.Fatalf("first page %q", ids(page))
		}
		mustCreate(t, s, license("lic_a", "ten_a"), license("lic_e", "ten_a"))
		page, next, err = s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 2, Cursor: next}})
		noErr(t, "ListLicenses", err)
		if !slices.Equal(ids(page), []string{"lic_e", "lic_f"}) || next != "" {
			t.Fatalf("second page %q next %q, want the licences after lic_d", ids(page), next)
		}
	}},
	{"Filters", func(t *testing.T, s controlplane.Store) {
		type row struct {
			id, tenant, status, plan string
			exp                      time.Duration
		}
		day := 24 * time.Hour
		rows := []row{
			{"lic_a1", "ten_a", "active", "yearly", 10 * day},
			{"lic_a2", "ten_a", "suspended", "yearly", 40 * day},
			{"lic_a3", "ten_a", "active", "monthly", 20 * day},
			{"lic_b1", "ten_b", "active", "yearly", 5 * day},
			{"lic_b2", "ten_b", "revoked", "monthly", 50 * day},
			{"lic_ab", "ten_b", "active", "yearly", 30 * day},
			{"lid_a1", "ten_a", "active", "yearly", 10 * day},
		}
		for _, r := range rows {
			l := license(r.id, r.tenant)
			l.Status, l.Plan, l.ExpiresAt = r.status, r.plan, at(r.exp)
			mustCreate(t, s, l)
		}
		cases := []struct {
			f    controlplane.LicenseFilter
			want string
		}{
			{controlplane.LicenseFilter{}, "lic_a1 lic_a2 lic_a3 lic_ab lic_b1 lic_b2 lid_a1"},
			{controlplane.LicenseFilter{TenantID: "ten_a"}, "lic_a1 lic_a2 lic_a3 lid_a1"},
			{controlplane.LicenseFilter{Status: "active"}, "lic_a1 lic_a3 lic_ab lic_b1 lid_a1"},
			{controlplane.LicenseFilter{Plan: "monthly"}, "lic_a3 lic_b2"},
			{controlplane.LicenseFilter{ExpiresBefore: at(20 * day)}, "lic_a1 lic_b1 lid_a1"},
			{controlplane.LicenseFilter{ExpiresBefore: at(20*day + time.Microsecond)}, "lic_a1 lic_a3 lic_b1 lid_a1"},
			{controlplane.LicenseFilter{IDPrefix: "lic_a"}, "lic_a1 lic_a2 lic_a3 lic_ab"},
			{controlplane.LicenseFilter{IDPrefix: "lic_a1"}, "lic_a1"},
			{controlplane.LicenseFilter{IDPrefix: "lic_%"}, ""},
			{controlplane.LicenseFilter{IDPrefix: "lic__1"}, ""},
			{controlplane.LicenseFilter{IDPrefix: "LIC"}, ""},
			{controlplane.LicenseFilter{IDPrefix: "a1"}, ""},
			{controlplane.LicenseFilter{TenantID: "ten_a", Status: "active", Plan: "yearly"}, "lic_a1 lid_a1"},
			{controlplane.LicenseFilter{TenantID: "ten_b", Status: "active", ExpiresBefore: at(31 * day), IDPrefix: "lic_a"}, "lic_ab"},
			{controlplane.LicenseFilter{TenantID: "ten_c"}, ""},
			{controlplane.LicenseFilter{Status: "expired"}, ""},
		}
		for _, c := range cases {
			for _, n := range []int{1, 2, 100} {
				got := strings.Join(walkLicenses(t, s, c.f, n), " ")
				if got != c.want {
					t.Errorf("filter %+v, limit %d: %q, want %q", c.f, n, got, c.want)
				}
			}
		}
	}},
	{"BadCursors", func(t *testing.T, s controlplane.Store) {
		mustCreate(t, s, license("lic_a", "ten_a"))
		for _, c := range []string{"%%%", "'; DROP TABLE licenses; --", "\x00", strings.Repeat("z", 10000), "-1", "99999999999999999999999"} {
			if _, _, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Cursor: c}}); err != nil {
				wantErr(t, fmt.Sprintf("ListLicenses cursor %.20q", c), err, controlplane.ErrInvalid)
			}
			if _, _, err := s.ListMachines(ctx, controlplane.MachineFilter{Page: controlplane.Page{Cursor: c}}); err != nil {
				wantErr(t, fmt.Sprintf("ListMachines cursor %.20q", c), err, controlplane.ErrInvalid)
			}
			if _, _, err := s.ListAPIKeys(ctx, controlplane.APIKeyFilter{Page: controlplane.Page{Cursor: c}}); err != nil {
				wantErr(t, fmt.Sprintf("ListAPIKeys cursor %.20q", c), err, controlplane.ErrInvalid)
			}
			if _, _, err := s.ListEvents(ctx, controlplane.EventFilter{Page: controlplane.Page{Cursor: c}}); err != nil {
				wantErr(t, fmt.Sprintf("ListEvents cursor %.20q", c), err, controlplane.ErrInvalid)
			}
		}
		// The licence is still there: nothing was dropped.
		mustGet(t, s, "lic_a")
	}},
}

// cursorBefore returns the cursor whose page starts at id.
func cursorBefore(t *testing.T, s controlplane.Store, id string) string {
	t.Helper()
	cursor := ""
	for {
		page, next, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: 1000, Cursor: cursor}})
		noErr(t, "ListLicenses", err)
		for i, l := range page {
			if l.ID != id {
				continue
			}
			if i == 0 {
				return cursor
			}
			p, c, err := s.ListLicenses(ctx, controlplane.LicenseFilter{Page: controlplane.Page{Limit: i, Cursor: cursor}})
			noErr(t, "ListLicenses", err)
			if len(p) != i {
				t.Fatalf("ListLicenses: %d, want %d", len(p), i)
			}
			return c
		}
		if next == "" {
			t.Fatalf("licence %q not listed", id)
		}
		cursor = next
	}
}
