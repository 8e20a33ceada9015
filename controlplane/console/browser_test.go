package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/licensekit/licensekit/license"
)

// seedFleet issues a few licences with machines in every state, so that
// the lists and the heartbeats have something to show.
func (e *env) seedFleet() {
	for i, s := range []struct {
		ago            time.Duration
		tenant, aud    string
		plan, fp, ctry string
	}{
		{20 * 24 * time.Hour, "ten_nordklinik", "Nordklinik Hamburg", "yearly", "fp1.c2a9e07b1d4f8a36e5b0d7c4", "DE"},
		{3 * time.Hour, "ten_alpenlabor", "Alpenlabor AG", "monthly", "fp1.7d3e1f09ab45c6d2e8f10b3a", "CH"},
		{0, "ten_alpenlabor", "Alpenlabor AG", "community", "fp1.91b0c4d7e2a5f8136c9d0e4b", "CH"},
		{0, "ten_riverside", "Riverside Imaging Ltd", "yearly", "fp1.5e8a2c6f0b9d3174a6e1c8f2", "GB"},
	} {
		e.clock.set(-s.ago)
		e.api("POST", "/licenses", adminSecret, map[string]any{"tenant_id": s.tenant, "audience": s.aud, "plan": s.plan,
			"tenant_ctry": s.ctry, "fingerprint": s.fp, "capabilities": []string{"imaging:read", "reports:write"},
			"metadata": map[string]string{"site": []string{"north", "lab", "lab-2", "main"}[i]}})
	}
	e.clock.set(0)
}

// TestBrowserConsole is a vendor's day in the console, in a real browser.
func TestBrowserConsole(t *testing.T) {
	e := newEnv(t)
	dir := shots(t)
	e.seedFleet()

	// Sign in.
	must(t, e.open("/licensing/") == http.StatusOK, "the console's first page must be the sign-in form")
	e.do("type the key", chromedp.SendKeys(chromedp.ID("secret"), adminSecret))
	e.press("sign in", button("Sign in"))
	must(t, e.text("h1") == "Licenses", "after sign-in: h1 %q, want Licenses", e.text("h1"))

	// Issue a licence through the form; its metadata holds markup.
	e.open("/licensing/license-new")
	e.do("fill the form",
		chromedp.SendKeys(chromedp.ID("tenant_id"), "ten_browser"),
		chromedp.SendKeys(chromedp.ID("audience"), `Browser "Test" GmbH`),
		chromedp.SendKeys(chromedp.ID("tenant_ctry"), "DE"),
		chromedp.SetValue(chromedp.ID("plan"), "yearly"),
		chromedp.SendKeys(chromedp.ID("capabilities"), "kyc:write kyc:read"),
		chromedp.SendKeys(chromedp.ID("metadata"), "note=<b>bold</b><script>alert(1)</script>"),
	)
	e.press("issue", button("Issue license"))
	must(t, e.text("h1") == "License issued", "after issue: h1 %q", e.text("h1"))
	id := e.text(`.issued a.mono`)
	must(t, len(id) > 4 && id[:4] == "lic_", "issued licence id %q", id)
	e.shot(dir, "license-new")

	// Find it in the list.
	e.open("/licensing/")
	e.shot(dir, "licenses")
	e.do("search", chromedp.SendKeys(chromedp.ID("f-q"), id))
	e.press("filter", button("Filter"))
	rows := eval[int](e, `document.querySelectorAll("table.grid tbody tr").length`)
	must(t, rows == 1, "the id search shows %d rows, want 1", rows)
	e.press("open it", link(id))
	must(t, e.text("h1") == id, "licence page h1 %q, want %q", e.text("h1"), id)

	// Markup in metadata is text, not markup.
	meta := eval[string](e, `document.querySelector("table.kv td").textContent`)
	must(t, meta == "<b>bold</b><script>alert(1)</script>", "metadata shown as %q", meta)
	must(t, eval[int](e, `document.querySelectorAll("table.kv b, main script").length`) == 0, "metadata markup became elements")
	must(t, contains(e.bodyText(), `Browser "Test" GmbH`), "the audience with quotes is not shown as typed")

	// The copy buttons appear with the script.
	must(t, !eval[bool](e, `document.querySelector("button.js-copy").hidden`), "copy buttons stay hidden: the script did not run")

	// Download the primary key file, and verify it offline.
	downloads := chromedp.BrowserEvents(e.ctx, browser.DownloadProgress)
	e.do("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: e.dl, EventsEnabled: ptr(true)})
		return err
	}), chromedp.Click(link("Download primary")))
	var file string
	for ev, err := range downloads {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(e.dl, ev.GUID)
			break
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("downloaded key file: %v", err)
	}
	kf, err := license.ParseKeyFile(data)
	if err != nil {
		t.Fatalf("ParseKeyFile: %v", err)
	}
	ring, err := license.ParseKeyring(jwks(e))
	if err != nil {
		t.Fatal(err)
	}
	lic, err := license.NewVerifier(ring, license.WithIssuer("acme")).VerifyKeyFile(kf)
	if err != nil {
		t.Fatalf("the downloaded key file does not verify: %v", err)
	}
	must(t, lic.ID == id && lic.Slot == license.SlotPrimary && kf.Secondary == "", "downloaded file: id %s slot %s", lic.ID, lic.Slot)

	// Check it against the server.
	e.press("check", button("Check"))
	must(t, contains(e.text(".check"), "License is valid"), "check says %q", e.text(".check"))

	// Answer an air-gapped machine's request pasted into the licence page:
	// the response file comes back as a download.
	req := fmt.Sprintf(`{"format":"licensekit.offline-request/v1","license_id":%q,"token":%q,"fingerprint":"fp1.browser","nonce":"NONCEBROWSER","created_at":%q}`,
		id, e.value("#key-primary"), e.clock.Now().UTC().Format(time.RFC3339))
	resp := e.download("offline activation", chromedp.SetValue(chromedp.ID("offline-text"), req), chromedp.Click(button("Download the response file")))
	var off struct {
		Format    string `json:"format"`
		LicenseID string `json:"license_id"`
		Lease     string `json:"lease"`
	}
	must(t, json.Unmarshal(resp, &off) == nil && off.Format == "licensekit.offline-response/v1" && off.LicenseID == id,
		"the offline response file: %q", resp)
	lease, err := license.NewVerifier(ring, license.WithIssuer("acme")).VerifyLease(off.Lease)
	must(t, err == nil && lease.Fingerprint == "fp1.browser" && lease.Nonce == "NONCEBROWSER", "the offline lease: %+v %v", lease, err)

	// Suspend and restore.
	e.press("suspend", button("Suspend"))
	must(t, contains(e.text(".flash-ok"), "License suspended"), "after suspend: %q", e.text(".flash-ok"))
	must(t, e.text(".pagehead .badge") == "suspended", "badge after suspend: %q", e.text(".pagehead .badge"))
	e.press("restore", button("Restore"))
	must(t, e.text(".pagehead .badge") == "active", "badge after restore: %q", e.text(".pagehead .badge"))

	// Reset the primary key, confirming the audience claims.
	oldPrimary, oldSecondary := e.value("#key-primary"), e.value("#key-secondary")
	e.press("reset primary", link("Reset primary"))
	must(t, contains(e.bodyText(), `Browser "Test" GmbH`) && contains(e.bodyText(), "ten_browser"), "the reset page does not show the audience claims")
	e.press("confirm reset", button("Reset primary"))
	must(t, contains(e.text(".flash-ok"), "Primary key reset"), "after reset: %q", e.text(".flash-ok"))
	newPrimary := e.value("#key-primary")
	must(t, newPrimary != oldPrimary && newPrimary != "", "the primary key did not change")
	must(t, e.value("#key-secondary") == oldSecondary, "the secondary key changed on a primary reset")
	e.shot(dir, "license")

	// Revoke, with confirmation.
	e.press("revoke", link("Revoke"))
	must(t, contains(e.text("h1"), "Revoke "+id), "revoke confirmation h1 %q", e.text("h1"))
	must(t, e.api("GET", "/licenses/"+id, adminSecret, nil)["license"].(map[string]any)["status"] == "active",
		"the licence changed before the revoke was confirmed")
	e.press("confirm revoke", button("Revoke"))
	must(t, e.text(".pagehead .badge") == "revoked", "badge after revoke: %q", e.text(".pagehead .badge"))

	// Heartbeats and signing keys, for the record.
	e.open("/licensing/heartbeats")
	must(t, contains(e.bodyText(), "overdue") && contains(e.bodyText(), "dead") && contains(e.bodyText(), "alive"), "the fleet lacks a state")
	e.shot(dir, "heartbeats")
	e.open("/licensing/signing")
	e.do("choose an algorithm", chromedp.SetValue(chromedp.ID("alg"), "ES256"))
	e.press("create a signing key", button("Create signing key"))
	must(t, contains(e.text(".flash-ok"), "Signing key created"), "after create: %q", e.text(".flash-ok"))
	must(t, eval[int](e, `document.querySelectorAll("table.grid tbody tr").length`) == 2, "the new signing key is not listed")
	e.shot(dir, "signing")

	// Create an API key: its secret is shown once.
	e.open("/licensing/keys")
	e.do("fill the key form",
		chromedp.SendKeys(chromedp.ID("k-name"), "support-desk"),
		chromedp.SetValue(chromedp.ID("k-role"), "support"),
		chromedp.Click(`input[name=scopes][value="admin:tenants"]`),
	)
	e.press("create key", button("Create key"))
	secret := e.value("#new-secret")
	must(t, len(secret) > 10 && secret[:3] == "lk_", "new secret %q", secret)
	must(t, !eval[bool](e, `document.querySelector("#new-secret + button.js-copy").hidden`), "the secret has no copy button")
	e.shot(dir, "keys")
	e.open("/licensing/keys")
	must(t, !contains(eval[string](e, "document.documentElement.outerHTML"), secret), "the secret is shown again after a reload")
	must(t, eval[int](e, `document.querySelectorAll("#new-secret").length`) == 0, "the secret field is back after a reload")

	// A support key is not offered Signing Keys, and gets 403 there.
	e.press("sign out", button("Sign out"))
	must(t, contains(e.bodyText(), "You are signed out"), "after sign-out: %q", e.bodyText())
	e.do("type the support key", chromedp.SendKeys(chromedp.ID("secret"), secret))
	e.press("sign in as support", button("Sign in"))
	must(t, e.text("h1") == "Licenses", "support's first page: %q", e.text("h1"))
	must(t, eval[int](e, `document.querySelectorAll('nav a[href="/licensing/signing"], nav a[href="/licensing/settings"]').length`) == 0,
		"support is offered Signing Keys or Settings")
	must(t, e.open("/licensing/signing") == http.StatusForbidden, "support gets no 403 at Signing Keys")
	must(t, contains(e.bodyText(), "signing.manage"), "the 403 page does not name the permission: %q", e.bodyText())
}

// download runs actions that start a download and returns the file.
func (e *env) download(step string, actions ...chromedp.Action[chromedp.Void]) []byte {
	e.t.Helper()
	downloads := chromedp.BrowserEvents(e.ctx, browser.DownloadProgress)
	e.do(step, actions...)
	for ev, err := range downloads {
		if err != nil {
			e.t.Fatalf("%s: download: %v", step, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			e.t.Fatalf("%s: the download was cancelled", step)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			data, err := os.ReadFile(filepath.Join(e.dl, ev.GUID))
			if err != nil {
				e.t.Fatalf("%s: %v", step, err)
			}
			return data
		}
	}
	e.t.Fatalf("%s: no download", step)
	return nil
}

func jwks(e *env) []byte {
	e.t.Helper()
	res, err := e.ts.Client().Get(e.ts.URL + "/.well-known/jwks.json")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf [64 << 10]byte
	n, _ := res.Body.Read(buf[:])
	return buf[:n]
}

func ptr[T any](v T) *T { return &v }
