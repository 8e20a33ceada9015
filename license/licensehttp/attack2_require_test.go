package licensehttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
	"github.com/licensekit/licensekit/license/licensetest"
)

// Require fails closed in every state that does not allow use, for every
// method, and lets through only the states that do with the capability
// granted.
func TestAttack2RequireFailsClosedInEveryState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		iss := licensetest.NewIssuer(t, licensetest.IssuerName("acme"))
		cp := licensetest.NewControlPlane(iss)
		cfg := license.Config{Keys: iss.Keyring(), AppID: "acme-appliance", StateDir: filepath.Join(t.TempDir(), "state"),
			Issuer: "acme", MachineID: "machine-A"}
		cp.Configure(&cfg)
		m, err := license.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		reached := 0
		gated := licensehttp.Require(m, "reports:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ }))
		check := func(wantState license.State, allowed bool) {
			t.Helper()
			synctest.Wait()
			if st := m.Status().State; st != wantState {
				t.Fatalf("state %v, want %v", st, wantState)
			}
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW"} {
				for _, path := range []string{"/v1/reports", "/v1/reports/../reports", "//v1/reports", "/V1/REPORTS"} {
					before := reached
					req := httptest.NewRequest(method, "/", nil)
					req.URL.Path = path
					rec := httptest.NewRecorder()
					gated.ServeHTTP(rec, req)
					passed := reached > before
					if passed != allowed {
						t.Fatalf("%v: %s %s passed=%v, want %v (%d %s)", wantState, method, path, passed, allowed, rec.Code, rec.Body)
					}
					if !allowed {
						var f licensehttp.Forbidden
						if rec.Code != http.StatusForbidden || json.Unmarshal(rec.Body.Bytes(), &f) != nil ||
							f.State != wantState.String() || f.Reason == "" || f.Capability != "reports:read" {
							t.Fatalf("%v: %s %s answered %d %s", wantState, method, path, rec.Code, rec.Body)
						}
					}
				}
			}
		}
		check(license.StateUnlicensed, false)

		// A key without the capability: active, yet refused.
		if _, err := m.Activate(context.Background(), iss.Mint(licensetest.Capabilities("other"))); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := m.Require("reports:read"); err == nil {
			t.Fatal("an ungranted capability passed")
		}
		if err := m.Deactivate(context.Background()); err != nil {
			t.Fatal(err)
		}

		key := iss.Mint(licensetest.Capabilities("reports:read"), licensetest.ExpiresIn(20*24*time.Hour))
		cp.SetDown(true)
		if _, err := m.Activate(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		check(license.StateInactive, false)
		cp.SetDown(false)
		time.Sleep(time.Hour)
		check(license.StateActive, true)
		lic := m.Status().License.ID

		cp.SetDown(true)
		time.Sleep(2 * time.Hour)
		check(license.StateGrace, true)
		time.Sleep(15 * 24 * time.Hour)
		check(license.StateLocked, false)
		cp.SetDown(false)
		time.Sleep(time.Hour)
		check(license.StateActive, true)

		cp.Suspend(lic)
		time.Sleep(time.Hour)
		check(license.StateSuspended, false)
		cp.Restore(lic)
		time.Sleep(time.Hour)
		check(license.StateActive, true)

		time.Sleep(5 * 24 * time.Hour)
		check(license.StateExpired, false)

		cp.Revoke(lic)
		time.Sleep(time.Hour)
		if st := m.Status().State; st.Allowed() {
			t.Fatalf("revoked and expired: %v", st)
		}
	})
}
