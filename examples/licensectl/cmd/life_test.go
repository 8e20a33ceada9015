package cmd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
)

// licenceAnswer is the part of {"license": …} the tests read.
type licenceAnswer struct {
	License struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Primary   string `json:"primary"`
		Secondary string `json:"secondary"`
		ExpiresAt string `json:"expires_at"`
		Machines  []struct {
			Fingerprint string `json:"fingerprint"`
			State       string `json:"state"`
		} `json:"machines"`
	} `json:"license"`
}

// licenceList is the part of {"licenses": […]} the tests read.
type licenceList struct {
	Licenses []struct {
		ID string `json:"id"`
	} `json:"licenses"`
	NextCursor *string `json:"next_cursor"`
}

func decode[T any](t testing.TB, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("stdout is not the JSON expected: %v\n%s", err, r)
	}
	return v
}

// show reads a licence through the CLI.
func show(t testing.TB, env []string, id string) licenceAnswer {
	t.Helper()
	return decode[licenceAnswer](t, want(t, ctl(t, env, "", "licenses", "show", id, "-o", "json"), 0, "show "+id))
}

var licID = regexp.MustCompile(`lic_[A-Za-z0-9]+`)

// TestLicenceLife drives one licence's whole life through the binary
// against the real control plane over SQLite, as a support desk would.
func TestLicenceLife(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)
	dir := t.TempDir()
	ctx := context.Background()

	// Issue, in a table.
	r := want(t, ctl(t, admin, "", "licenses", "issue", "--tenant-id", "ten_abc123", "--plan", "yearly",
		"--audience", "Acme Health GmbH", "--country", "DE", "--capability", "kyc:write",
		"--metadata", "environment=production", "--max-machines", "2"), 0, "issue")
	golden(t, "licenses-issue", r.stdout)
	if !strings.Contains(r.stderr, "licenses download") {
		t.Errorf("issue should say how to download the key file:\n%s", r)
	}
	id := licID.FindString(r.stdout)
	if id == "" {
		t.Fatalf("no licence id in the issue table:\n%s", r)
	}
	lic := show(t, admin, id)
	if lic.License.Status != "active" || lic.License.Primary == "" || lic.License.Secondary == "" {
		t.Fatalf("issued licence: %+v", lic.License)
	}
	if strings.Contains(r.stdout, lic.License.Primary) || strings.Contains(r.stdout, lic.License.Secondary) {
		t.Error("the issue table shows a whole token; it must cut them")
	}
	firstPrimary, firstSecondary := lic.License.Primary, lic.License.Secondary

	// List: the table, the JSON wrapping, and paging with --all.
	other := decode[licenceAnswer](t, want(t, ctl(t, admin, "", "licenses", "issue", "--tenant-id", "ten_other", "--ttl", "30d", "-o", "json"), 0, "issue a second"))
	r = want(t, ctl(t, admin, "", "licenses", "list", "--tenant-id", "ten_abc123"), 0, "list")
	golden(t, "licenses-list", r.stdout)
	list := decode[licenceList](t, want(t, ctl(t, admin, "", "licenses", "list", "--limit", "1", "-o", "json"), 0, "list one page"))
	if len(list.Licenses) != 1 || list.NextCursor == nil || *list.NextCursor == "" {
		t.Fatalf("a page of one of two licences: %+v", list)
	}
	r = want(t, ctl(t, admin, "", "licenses", "list", "--limit", "1"), 0, "list one page, table")
	if !strings.Contains(r.stderr, "--all") {
		t.Errorf("a list that goes on should say so on stderr:\n%s", r)
	}
	list = decode[licenceList](t, want(t, ctl(t, admin, "", "licenses", "list", "--limit", "1", "--all", "-o", "json"), 0, "list --all"))
	if len(list.Licenses) != 2 || *list.NextCursor != "" {
		t.Fatalf("--all over pages of one: want both licences, got %+v", list)
	}

	// Download the key file, and the JWKS, and verify offline.
	keyFile := filepath.Join(dir, "license.json")
	want(t, ctl(t, admin, "", "licenses", "download", id, "--out", keyFile), 0, "download --out")
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode())
	}
	kf, err := license.LoadKeyFile(keyFile)
	if err != nil || kf.Primary != firstPrimary || kf.Secondary != firstSecondary {
		t.Fatalf("downloaded key file: %v %+v", err, kf)
	}
	fileBytes, _ := os.ReadFile(keyFile)
	r = want(t, ctl(t, admin, "", "licenses", "download", id), 0, "download to stdout")
	if r.stdout != string(fileBytes) {
		t.Error("download to stdout and to --out differ")
	}
	r = want(t, ctl(t, admin, "", "licenses", "download", id, "--slot", "secondary"), 0, "download secondary")
	if sec, err := license.ParseKeyFile([]byte(r.stdout)); err != nil || sec.Primary != "" || sec.Secondary != firstSecondary {
		t.Fatalf("secondary-only key file: %v %+v", err, sec)
	}
	jwks1 := filepath.Join(dir, "jwks1.json")
	want(t, ctl(t, []string{"LICENSECTL_URL=" + p.hs.URL}, "", "signing-keys", "jwks", "--out", jwks1), 0, "jwks without an API key")
	r = want(t, ctl(t, nil, "", "verify", "--keys", jwks1, "--key-file", keyFile), 0, "verify offline")
	golden(t, "verify", r.stdout)
	want(t, ctl(t, nil, "", "verify", "--keys", jwks1, "--token", firstPrimary, "--issuer", "acme"), 0, "verify a token for our issuer")
	wantErr(t, ctl(t, nil, "", "verify", "--keys", jwks1, "--token", firstPrimary, "--issuer", "someone-else"), 4, "verify for another issuer", "INVALID_CLAIMS")
	tampered := filepath.Join(dir, "tampered.json")
	writeTampered(t, fileBytes, tampered)
	r = wantErr(t, ctl(t, nil, "", "verify", "--keys", jwks1, "--key-file", tampered, "-o", "json"), 4, "verify a tampered key file", "not valid")
	if v := decode[struct{ Valid bool }](t, r); v.Valid {
		t.Fatal("a tampered key file verified")
	}

	// Validate with the server, then activate a machine through the SDK's client.
	r = want(t, ctl(t, admin, "", "licenses", "validate", "--token", firstPrimary), 0, "validate")
	golden(t, "validate", r.stdout)
	want(t, ctl(t, admin, firstPrimary, "licenses", "validate", "--token", "-"), 0, "validate from stdin")
	dev := &heartbeat.Client{BaseURL: p.hs.URL}
	beat := heartbeat.Request{LicenseID: id, Token: firstPrimary, Fingerprint: "fp1.terminal-A", IdempotencyKey: heartbeat.NewIdempotencyKey()}
	if resp, err := dev.Activate(ctx, beat); err != nil || resp.Status != "active" {
		t.Fatalf("activate: %v %+v", err, resp)
	}
	r = want(t, ctl(t, admin, "", "licenses", "show", id), 0, "show with a machine")
	golden(t, "licenses-show", r.stdout)
	r = want(t, ctl(t, admin, "", "machines", "list", "--license-id", id, "--state", "alive"), 0, "machines list")
	golden(t, "machines-list", r.stdout)
	if !strings.Contains(r.stdout, "fp1.terminal-A") || !strings.Contains(r.stdout, "alive") {
		t.Fatalf("machines list should show the bound machine alive:\n%s", r)
	}

	// Suspend and restore.
	want(t, ctl(t, admin, "", "licenses", "suspend", id), 0, "suspend")
	wantErr(t, ctl(t, admin, "", "licenses", "validate", "--token", firstPrimary), 4, "validate suspended", "suspended")
	if resp, err := dev.Heartbeat(ctx, beat); err != nil || resp.Status != "suspended" {
		t.Fatalf("heartbeat of a suspended licence: %v %+v", err, resp)
	}
	wantErr(t, ctl(t, admin, "", "licenses", "suspend", id), 4, "suspend twice", "CONFLICT")
	want(t, ctl(t, admin, "", "licenses", "restore", id), 0, "restore")
	want(t, ctl(t, admin, "", "licenses", "validate", "--token", firstPrimary), 0, "validate restored")

	// Reset the primary: the old primary is invalid, the secondary still valid.
	want(t, ctl(t, admin, "", "licenses", "reset", id, "--slot", "primary"), 0, "reset primary")
	wantErr(t, ctl(t, admin, "", "licenses", "validate", "--token", firstPrimary), 4, "validate the old primary", "replaced")
	want(t, ctl(t, admin, "", "licenses", "validate", "--token", firstSecondary), 0, "validate the secondary after a reset")
	newPrimary := show(t, admin, id).License.Primary
	if newPrimary == firstPrimary || newPrimary == "" {
		t.Fatal("reset did not give the primary a new key")
	}
	want(t, ctl(t, admin, "", "licenses", "validate", "--token", newPrimary), 0, "validate the new primary")

	// Rotate the signing key: what the old key signed still verifies.
	sk := decode[struct {
		SigningKey struct {
			KID   string `json:"kid"`
			State string `json:"state"`
		} `json:"signing_key"`
	}](t, want(t, ctl(t, admin, "", "signing-keys", "create", "-o", "json"), 0, "signing-keys create"))
	if sk.SigningKey.KID == "" || sk.SigningKey.State == "active" {
		t.Fatalf("a new signing key is published, not active: %+v", sk)
	}
	want(t, ctl(t, admin, "", "signing-keys", "activate", sk.SigningKey.KID), 0, "signing-keys activate")
	r = want(t, ctl(t, admin, "", "signing-keys", "list"), 0, "signing-keys list")
	golden(t, "signing-keys-list", r.stdout)
	jwks2 := filepath.Join(dir, "jwks2.json")
	want(t, ctl(t, admin, "", "signing-keys", "jwks", "--out", jwks2), 0, "jwks after rotation")
	want(t, ctl(t, nil, "", "verify", "--keys", jwks2, "--token", firstSecondary), 0, "verify an old licence with the rotated JWKS")
	want(t, ctl(t, admin, "", "licenses", "validate", "--token", firstSecondary), 0, "validate an old licence after rotation")
	fresh := decode[licenceAnswer](t, want(t, ctl(t, admin, "", "licenses", "issue", "--tenant-id", "ten_abc123", "-o", "json"), 0, "issue after rotation"))
	want(t, ctl(t, nil, "", "verify", "--keys", jwks2, "--token", fresh.License.Primary), 0, "verify a new licence with the new JWKS")
	wantErr(t, ctl(t, nil, "", "verify", "--keys", jwks1, "--token", fresh.License.Primary), 4, "verify a new licence with the old JWKS", "UNKNOWN_KEY")

	// Revoke; the device hears it; a restart on the same file keeps it.
	want(t, ctl(t, admin, "", "licenses", "revoke", id), 0, "revoke")
	wantErr(t, ctl(t, admin, "", "licenses", "validate", "--token", firstSecondary), 4, "validate revoked", "revoked")
	if resp, err := dev.Heartbeat(ctx, beat); err != nil || resp.Status != "revoked" {
		t.Fatalf("heartbeat of a revoked licence: %v %+v", err, resp)
	}
	r = want(t, ctl(t, admin, "", "licenses", "list", "--status", "revoked", "-o", "json"), 0, "list revoked")
	if l := decode[licenceList](t, r); len(l.Licenses) != 1 || l.Licenses[0].ID != id {
		t.Fatalf("list --status revoked: %+v", l)
	}
	r = want(t, ctl(t, admin, "", "licenses", "list", "--expiring-within", "31d", "-o", "json"), 0, "list expiring")
	if l := decode[licenceList](t, r); len(l.Licenses) != 1 || l.Licenses[0].ID != other.License.ID {
		t.Fatalf("list --expiring-within 31d: want only the 30-day licence, got %+v", l)
	}
	p.restart()
	admin = p.env(adminKey)
	if s := show(t, admin, id).License.Status; s != "revoked" {
		t.Fatalf("after a restart the licence is %q, want revoked", s)
	}
	wantErr(t, ctl(t, admin, "", "licenses", "validate", "--token", firstSecondary), 4, "validate revoked after restart", "revoked")
	wantErr(t, ctl(t, admin, "", "licenses", "revoke", id), 4, "revoke twice", "already revoked")
	wantErr(t, ctl(t, admin, "", "licenses", "renew", id), 4, "renew revoked", "CONFLICT")

	// Renew and rebind the other licence; sweep; settings.
	before := show(t, admin, other.License.ID).License
	want(t, ctl(t, admin, "", "licenses", "renew", other.License.ID, "--ttl", "60d"), 0, "renew")
	after := show(t, admin, other.License.ID).License
	if after.ExpiresAt <= before.ExpiresAt || after.Primary == before.Primary || after.Secondary == before.Secondary {
		t.Fatalf("renew: expiry %s → %s, keys re-issued: %v %v", before.ExpiresAt, after.ExpiresAt, after.Primary != before.Primary, after.Secondary != before.Secondary)
	}
	want(t, ctl(t, admin, "", "licenses", "rebind", other.License.ID, "--fingerprint", "fp1.replacement"), 0, "rebind")
	if m := show(t, admin, other.License.ID).License.Machines; len(m) != 1 || m[0].Fingerprint != "fp1.replacement" {
		t.Fatalf("rebind: machines %+v", m)
	}
	r = want(t, ctl(t, admin, "", "sweep"), 0, "sweep")
	if !strings.Contains(r.stderr, "Nothing to reconcile") {
		t.Errorf("a sweep with nothing to do should say so:\n%s", r)
	}
	r = want(t, ctl(t, admin, "", "sweep", "-o", "json"), 0, "sweep json")
	decode[struct{ Expired, Dead []json.RawMessage }](t, r)
	r = want(t, ctl(t, admin, "", "settings", "get"), 0, "settings get")
	golden(t, "settings-get", r.stdout)
	want(t, ctl(t, admin, "", "settings", "set", "--grace", "240h", "--heartbeat-interval", "30m"), 0, "settings set")
	set := decode[struct {
		Settings struct{ Grace, HeartbeatInterval string }
	}](t,
		want(t, ctl(t, admin, "", "settings", "get", "-o", "json"), 0, "settings get json"))
	if set.Settings.Grace != "10d" {
		t.Fatalf("grace after set: %+v", set.Settings)
	}
	wantErr(t, ctl(t, admin, "", "settings", "set", "--grace", "forever"), 4, "settings set forever", "--grace")
	wantErr(t, ctl(t, admin, "", "settings", "set"), 4, "settings set nothing", "nothing to set")
	wantErr(t, ctl(t, admin, "", "settings", "set", "--grace", "30m", "--heartbeat-interval", "1h"), 4, "grace shorter than the interval", "VALIDATION")

	// Delete: refused without a terminal, done with --yes; the keys are gone.
	wantErr(t, ctl(t, admin, "", "licenses", "delete", fresh.License.ID), 4, "delete without a terminal", "--yes")
	if s := show(t, admin, fresh.License.ID).License.Status; s != "active" {
		t.Fatalf("a refused delete changed the licence to %q", s)
	}
	want(t, ctl(t, admin, "", "licenses", "delete", fresh.License.ID, "--yes"), 0, "delete --yes")
	if s := show(t, admin, fresh.License.ID).License.Status; s != "deleted" {
		t.Fatalf("after delete the licence is %q", s)
	}
	wantErr(t, ctl(t, admin, "", "licenses", "download", fresh.License.ID), 3, "download deleted", "NOT_FOUND")
	wantErr(t, ctl(t, admin, "", "licenses", "validate", "--token", fresh.License.Primary), 4, "validate deleted", "deleted")

	// Not found, and the audit log of what happened.
	wantErr(t, ctl(t, admin, "", "licenses", "show", "lic_doesnotexist"), 3, "show unknown", "License not found")
	wantErr(t, ctl(t, admin, "", "licenses", "revoke", "lic_doesnotexist"), 3, "revoke unknown", "NOT_FOUND")
	wantErr(t, ctl(t, admin, "", "signing-keys", "activate", "nokid"), 3, "activate unknown signing key", "NOT_FOUND")
	wantErr(t, ctl(t, admin, "", "signing-keys", "retire", sk.SigningKey.KID), 4, "retire the active key", "CONFLICT")
	r = want(t, ctl(t, admin, "", "audit", "list", "--action", "license.revoke"), 0, "audit list")
	golden(t, "audit-list", r.stdout)
	ev := decode[struct {
		Events []struct{ Action, Target, Actor string }
	}](t, want(t, ctl(t, admin, "", "audit", "list", "--target", id, "--since", "1h", "--all", "-o", "json"), 0, "audit of the licence"))
	var actions []string
	for _, e := range ev.Events {
		actions = append(actions, e.Action)
	}
	for _, a := range []string{"license.issue", "license.suspend", "license.restore", "license.reset", "license.revoke", "license.activate"} {
		if !strings.Contains(strings.Join(actions, " "), a) {
			t.Errorf("audit of %s lacks %s: %v", id, a, actions)
		}
	}
}

// writeTampered writes a copy of a key file whose primary token has one
// character of its claims changed.
func writeTampered(t testing.TB, file []byte, path string) {
	t.Helper()
	var kf map[string]any
	if err := json.Unmarshal(file, &kf); err != nil {
		t.Fatal(err)
	}
	for _, slot := range []string{"primary", "secondary"} {
		tok := kf[slot].(string)
		parts := strings.Split(tok, ".")
		b := []byte(parts[1])
		b[10] ^= 1
		parts[1] = string(b)
		kf[slot] = strings.Join(parts, ".")
	}
	data, _ := json.Marshal(kf)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
