package cmd_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSigningKeysKeyset(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)
	public := []string{"LICENSECTL_URL=" + p.hs.URL}
	var list struct {
		SigningKeys []struct {
			KID string `json:"kid"`
		} `json:"signing_keys"`
	}
	if err := json.Unmarshal([]byte(want(t, ctl(t, admin, "", "signing-keys", "list", "-o", "json"), 0, "list").stdout), &list); err != nil || len(list.SigningKeys) != 1 {
		t.Fatalf("signing keys: %v %+v", err, list)
	}
	first := list.SigningKeys[0].KID
	r := want(t, ctl(t, public, "", "signing-keys", "keyset"), 0, "keyset without an API key")
	if !strings.Contains(r.stdout, "SIGNED BY  "+first) || strings.Count(r.stdout, "KEY ") != 1 {
		t.Fatalf("first statement:\n%s", r)
	}
	var created struct {
		SigningKey struct {
			KID string `json:"kid"`
		} `json:"signing_key"`
	}
	if err := json.Unmarshal([]byte(want(t, ctl(t, admin, "", "signing-keys", "create", "-o", "json"), 0, "create").stdout), &created); err != nil || created.SigningKey.KID == "" {
		t.Fatalf("create: %v %+v", err, created)
	}
	k := created.SigningKey
	want(t, ctl(t, admin, "", "signing-keys", "activate", k.KID), 0, "activate")
	r = want(t, ctl(t, public, "", "signing-keys", "keyset"), 0, "keyset after the activation")
	if !strings.Contains(r.stdout, "SIGNED BY  "+first) || !strings.Contains(r.stdout, "KEY        "+k.KID) || !strings.Contains(r.stdout, "KEY        "+first) {
		t.Fatalf("after activating %s the statement must be signed by %s and list both:\n%s", k.KID, first, r)
	}
	r = want(t, ctl(t, public, "", "signing-keys", "keyset", "-o", "json"), 0, "keyset as JSON")
	var raw struct {
		Keyset string `json:"keyset"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || strings.Count(raw.Keyset, ".") != 2 {
		t.Fatalf("-o json: %v\n%s", err, r)
	}
}
