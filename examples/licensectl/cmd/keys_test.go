package cmd_test

import (
	"slices"
	"strings"
	"testing"
)

// sortRows sorts a table's rows, below its header, by column col.
func sortRows(out string, col int) string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	rows := lines[1:]
	slices.SortStableFunc(rows, func(a, b string) int {
		return strings.Compare(strings.Fields(a)[col], strings.Fields(b)[col])
	})
	return strings.Join(lines, "\n") + "\n"
}

type keyAnswer struct {
	Key struct {
		ID     string   `json:"id"`
		Secret string   `json:"secret"`
		Masked string   `json:"masked"`
		Scopes []string `json:"scopes"`
	} `json:"key"`
}

// TestKeysStory mints API keys through the binary and uses them: the
// defaults grant nothing, admin:tenants may issue, a name is unique in its
// tenant, lists mask secrets, a revoked key is refused.
func TestKeysStory(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)

	// Default scopes: the key authenticates but cannot issue.
	ingest := decode[keyAnswer](t, want(t, ctl(t, admin, "", "keys", "create", "--tenant-id", "ten_abc123", "--name", "ingest-key", "-o", "json"), 0, "create with default scopes"))
	if !strings.HasPrefix(ingest.Key.Secret, "lk_") || strings.Join(ingest.Key.Scopes, " ") != "read:events write:events" {
		t.Fatalf("a default key: %+v", ingest.Key)
	}
	r := wantErr(t, ctl(t, p.env(ingest.Key.Secret), "", "licenses", "issue", "--tenant-id", "ten_abc123"), 2, "issue with a default key", "FORBIDDEN")
	if !strings.Contains(r.stderr, "admin:tenants") {
		t.Errorf("a 403 should name the scope that is missing:\n%s", r)
	}
	wantErr(t, ctl(t, p.env(ingest.Key.Secret), "", "licenses", "list"), 2, "list with a default key", "Insufficient scope")

	// admin:tenants with role onboarding: may issue, in its tenant only.
	issuer := decode[keyAnswer](t, want(t, ctl(t, admin, "", "keys", "create", "--tenant-id", "ten_abc123", "--name", "ci-key",
		"--scopes", "admin:tenants", "--role", "onboarding", "-o", "json"), 0, "create with admin:tenants"))
	want(t, ctl(t, p.env(issuer.Key.Secret), "", "licenses", "issue", "--tenant-id", "ten_abc123"), 0, "issue with admin:tenants")
	wantErr(t, ctl(t, p.env(issuer.Key.Secret), "", "licenses", "issue", "--tenant-id", "ten_other"), 2, "issue for another tenant", "another tenant")
	wantErr(t, ctl(t, p.env(issuer.Key.Secret), "", "keys", "list", "--tenant-id", "ten_abc123"), 2, "list keys without admin:keys", "FORBIDDEN")

	// A name taken in the tenant.
	wantErr(t, ctl(t, admin, "", "keys", "create", "--tenant-id", "ten_abc123", "--name", "ci-key"), 4, "create a taken name", "Key name taken")

	// A key made in a table shows its secret once, with a warning on stderr.
	r = want(t, ctl(t, admin, "", "keys", "create", "--tenant-id", "ten_abc123", "--name", "desk", "--scopes", "admin:tenants read:events", "--role", "support", "--expires", "30d"), 0, "create, table")
	if !strings.Contains(r.stderr, "shown this once") {
		t.Errorf("creating a key should warn that the secret is shown once:\n%s", r)
	}
	secret := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "SECRET" {
			secret = f[1]
		}
	}
	if !strings.HasPrefix(secret, "lk_") || strings.Count(r.stdout+r.stderr, secret) != 1 {
		t.Fatalf("the new secret should be on stdout once:\n%s", r)
	}
	want(t, ctl(t, p.env(secret), "", "audit", "list"), 0, "the support key reads the audit log")

	// The list masks every secret.
	r = want(t, ctl(t, admin, "", "keys", "list", "--tenant-id", "ten_abc123"), 0, "keys list")
	golden(t, "keys-list", sortRows(r.stdout, 1)) // the server lists by id, which is random
	jsonList := want(t, ctl(t, admin, "", "keys", "list", "--tenant-id", "ten_abc123", "-o", "json"), 0, "keys list json")
	for _, s := range []string{ingest.Key.Secret, issuer.Key.Secret, secret} {
		if strings.Contains(r.stdout, s) || strings.Contains(jsonList.stdout, s) {
			t.Fatal("a key list shows a secret")
		}
	}
	if !strings.Contains(r.stdout, issuer.Key.Masked) {
		t.Errorf("the list should show the masked form %q:\n%s", issuer.Key.Masked, r)
	}

	// The keys of no tenant: the bootstrap key.
	global := want(t, ctl(t, admin, "", "keys", "list", "--tenant-id", "", "-o", "json"), 0, "keys of no tenant")
	if !strings.Contains(global.stdout, `"key_bootstrap"`) || strings.Contains(global.stdout, "ten_abc123") {
		t.Errorf("--tenant-id \"\" should list the keys of no tenant only:\n%s", global)
	}

	// Revoked: refused from then on; revoking again is a conflict.
	want(t, ctl(t, admin, "", "keys", "revoke", issuer.Key.ID), 0, "keys revoke")
	wantErr(t, ctl(t, p.env(issuer.Key.Secret), "", "licenses", "issue", "--tenant-id", "ten_abc123"), 2, "issue with a revoked key", "UNAUTHENTICATED")
	wantErr(t, ctl(t, admin, "", "keys", "revoke", issuer.Key.ID), 4, "revoke twice", "already revoked")
	wantErr(t, ctl(t, admin, "", "keys", "revoke", "key_doesnotexist"), 3, "revoke unknown", "NOT_FOUND")
	wantErr(t, ctl(t, p.env("lk_key_nope_wrong"), "", "keys", "list", "--tenant-id", "ten_abc123"), 2, "an unknown key", "UNAUTHENTICATED")
	wantErr(t, ctl(t, []string{"LICENSECTL_URL=" + p.hs.URL}, "", "licenses", "list"), 2, "no key at all", "--api-key")
	wantErr(t, ctl(t, admin, "", "keys", "create", "--tenant-id", "ten_abc123", "--name", "x", "--expires", "-3d"), 4, "a key with a negative lifetime", "--expires")
}
