package controlplane_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

// failingStore fails UpdateLicense while armed, to drive the server down
// its error paths (and their log lines).
type failingStore struct {
	controlplane.Store
	fail atomic.Bool
}

func (f *failingStore) UpdateLicense(ctx context.Context, id string, fn func(*controlplane.License) ([]controlplane.Event, error)) (controlplane.License, error) {
	if f.fail.Load() {
		return controlplane.License{}, errors.New("disk on fire")
	}
	return f.Store.UpdateLicense(ctx, id, fn)
}

// A full run — keys, licences, device calls, resets, failures, bad
// requests that carry secrets in odd places — and then every log line,
// audit event and answer is searched for secrets and whole tokens. Only
// the answers that create a key or show a licence's keys may carry them.
func TestAttackNoSecretOutsideItsAnswer(t *testing.T) {
	var logs bytes.Buffer
	fs := &failingStore{Store: memstore.New()}
	h := newHarness(t, func(c *controlplane.Config) {
		c.Store = fs
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	var secrets []string // API-key secrets and whole tokens
	var answers []string // bodies that must carry none of them
	keep := func(body string) { answers = append(answers, body) }

	k := h.must(201, "POST", "/keys", adminSecret, map[string]any{"name": "ops", "role": "super_admin", "scopes": allScopes})["key"].(map[string]any)
	ops := k["secret"].(string)
	secrets = append(secrets, adminSecret, ops)
	h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{"alg": "ES256"})
	l := h.issue("ten_a", map[string]any{"max_machines": 2})
	secrets = append(secrets, l.Primary, l.Secondary)
	resp, err := h.activate(l, l.Primary, "fp-A")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, resp.Lease)
	if _, err := h.beat(l, l.Primary, "fp-A"); err != nil {
		t.Fatal(err)
	}
	reset := h.must(200, "POST", "/licenses/"+l.ID+"/reset", ops, map[string]any{"slot": "primary"})
	secrets = append(secrets, reset["license"].(map[string]any)["primary"].(string))
	renewed := h.must(200, "POST", "/licenses/"+l.ID+"/renew", ops, map[string]any{"ttl": "30d"})["license"].(map[string]any)
	secrets = append(secrets, renewed["primary"].(string), renewed["secondary"].(string))

	// Secrets where they do not belong: in bodies, ids, queries and headers.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/licenses", `{"tenant_id":"` + ops + `"}`},
		{"POST", "/licenses", `{"tenant_id":"ten_a","ttl":"` + l.Primary[:30] + `"}`},
		{"POST", "/licenses/validate", `{"token":"` + ops + `"}`},
		{"POST", "/licenses/validate", `{"token":"` + l.Primary + `x"}`},
		{"POST", "/licenses/" + l.ID + "/heartbeat", `{"token":"` + l.Primary + `","fingerprint":"fp-nobody"}`},
		{"POST", "/licenses/" + l.ID + "/activate", `{"token":"` + l.Secondary + `","fingerprint":"` + ops + `"}`},
		{"GET", "/licenses/" + ops, ""},
		{"GET", "/audit?actor=" + ops, ""},
	} {
		rec := h.do(c.method, c.path, ops, c.body)
		keep(rec.Body.String())
	}
	for _, bad := range []string{ops + "x", l.Primary, "Bearer " + ops} {
		keep(h.do("GET", "/licenses", bad, nil).Body.String())
	}
	// A store that fails: 5xx, and its log line.
	fs.fail.Store(true)
	rec := h.do("POST", "/licenses/"+l.ID+"/suspend", ops, nil)
	if rec.Code != 500 {
		t.Fatalf("failing store: %d", rec.Code)
	}
	keep(rec.Body.String())
	h.clock.Add(time.Minute)
	if _, err := h.beat(l, renewed["primary"].(string), "fp-A"); err != nil {
		t.Fatalf("beat with a failing UpdateLicense: %v", err)
	}
	fs.fail.Store(false)
	h.clock.Add(time.Hour)
	h.must(200, "DELETE", "/licenses/"+l.ID, ops, nil)

	for _, p := range []string{"/licenses?limit=1000", "/licenses?status=deleted", "/machines", "/keys", "/audit?limit=1000", "/signing-keys", "/settings", "/.well-known/jwks.json", "/openapi.json"} {
		keep(h.do("GET", p, ops, nil).Body.String())
	}
	keep(h.must(200, "POST", "/keys/"+k["id"].(string)+"/revoke", adminSecret, nil)["key"].(map[string]any)["masked"].(string))
	if err := h.srv.FlushBeats(); err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 || !strings.Contains(logs.String(), "request failed") {
		t.Fatalf("the run logged nothing of its failure: %q", logs.String())
	}
	places := append([]string{"log: " + logs.String()}, answers...)
	for _, text := range places {
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("a secret or whole token (%.12s…) in %.200s", sec, text)
			}
		}
		// No private JWK member anywhere: "d" (EC, OKP, RSA), "p", "q".
		if m := regexp.MustCompile(`"(d|p|q|dp|dq|qi)"\s*:`).FindString(text); m != "" {
			t.Errorf("a private key member %s in %.200s", m, text)
		}
	}
}

// sealSwap hands out the stored signing keys with the sealed private
// halves of the first two swapped, as someone with write access to the
// database could arrange.
type sealSwap struct{ controlplane.Store }

func (s sealSwap) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	list, err := s.Store.ListSigningKeys(ctx)
	if err == nil && len(list) >= 2 {
		list[0].Sealed, list[1].Sealed = list[1].Sealed, list[0].Sealed
	}
	return list, err
}

// A sealed private key moved onto another key's record does not open: the
// server refuses to start rather than sign with the wrong key.
func TestAttackSwappedSealedKeysRefused(t *testing.T) {
	h := newHarness(t)
	h.must(201, "POST", "/signing-keys", adminSecret, map[string]any{"alg": "EdDSA"})
	_, err := controlplane.New(context.Background(), controlplane.Config{
		Store: sealSwap{h.store}, Issuer: issuer, AdminKey: adminSecret, SecretKey: testSecretKey(),
	})
	if !errors.Is(err, controlplane.ErrSecretKey) {
		t.Fatalf("New over swapped sealed keys: %v, want ErrSecretKey", err)
	}
	// Swapped the other way round, with the second key active: the same.
	list := h.must(200, "GET", "/signing-keys", adminSecret, nil)["signing_keys"].([]any)
	h.must(200, "POST", "/signing-keys/"+list[1].(map[string]any)["kid"].(string)+"/activate", adminSecret, nil)
	_, err = controlplane.New(context.Background(), controlplane.Config{
		Store: sealSwap{h.store}, Issuer: issuer, AdminKey: adminSecret, SecretKey: testSecretKey(),
	})
	if !errors.Is(err, controlplane.ErrSecretKey) {
		t.Fatalf("New over swapped sealed keys, second active: %v, want ErrSecretKey", err)
	}
}
