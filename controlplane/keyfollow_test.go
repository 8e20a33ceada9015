package controlplane_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// device sends one raw device call and returns the answer, so that the
// test reads the members the SDK's client may not know yet.
func (h *harness) device(op string, l lic, token, fp string) (*httptest.ResponseRecorder, map[string]any) {
	h.t.Helper()
	body := map[string]any{"token": token, "fingerprint": fp, "nonce": "n-" + fp}
	if op == "activate" {
		body["idempotency_key"] = "idem-" + fp
	}
	rec := h.do("POST", "/licenses/"+l.ID+"/"+op, "", body)
	out := map[string]any{}
	if rec.Code == 200 {
		out = h.decode(rec)
	}
	return rec, out
}

func (h *harness) decode(rec *httptest.ResponseRecorder) map[string]any {
	h.t.Helper()
	out := map[string]any{}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		h.t.Fatalf("answer is not JSON: %v", err)
	}
	return out
}

// current returns the licence's slot tokens as the API shows them.
func (h *harness) current(id string) (primary, secondary string) {
	h.t.Helper()
	l := h.must(200, "GET", "/licenses/"+id, adminSecret, nil)["license"].(map[string]any)
	p, _ := l["primary"].(string)
	s, _ := l["secondary"].(string)
	return p, s
}

// followKey checks that an answer hands the machine want, a token that
// verifies for the same licence.
func (h *harness) followKey(name string, out map[string]any, licID, want string) {
	h.t.Helper()
	got, _ := out["license_key"].(string)
	if got != want {
		h.t.Fatalf("%s: license_key %.40q, want %.40q", name, got, want)
	}
	if want == "" {
		return
	}
	lic, err := h.verifier().Verify(got)
	if err != nil || lic.ID != licID {
		h.t.Fatalf("%s: license_key does not verify for %s: %v", name, licID, err)
	}
}

func TestKeyFollowsReset(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 2})
	if rec, out := h.device("activate", l, l.Primary, "fp-A"); rec.Code != 200 || out["license_key"] != nil {
		t.Fatalf("activate: %d %v", rec.Code, out)
	}
	_, out := h.device("heartbeat", l, l.Primary, "fp-A")
	h.followKey("a current key", out, l.ID, "")

	h.must(200, "POST", "/licenses/"+l.ID+"/reset", adminSecret, map[string]any{"slot": "primary"})
	primary, _ := h.current(l.ID)
	rec, out := h.device("heartbeat", l, l.Primary, "fp-A")
	if rec.Code != 200 || out["lease"] == "" {
		t.Fatalf("bound machine with the reset key: %d %s", rec.Code, rec.Body.String())
	}
	h.followKey("bound machine, reset key", out, l.ID, primary)
	_, out = h.device("heartbeat", l, primary, "fp-A")
	h.followKey("the new key", out, l.ID, "")
	// Re-activating with the old key, as a restarted product would, is
	// answered too, with the new key.
	rec, out = h.device("activate", l, l.Primary, "fp-A")
	if rec.Code != 200 {
		t.Fatalf("bound machine re-activating with the reset key: %d %s", rec.Code, rec.Body.String())
	}
	h.followKey("activation, reset key", out, l.ID, primary)

	// A machine the licence is not bound to gets nothing new.
	before := h.events()
	for _, op := range []string{"heartbeat", "activate", "deactivate"} {
		rec, _ := h.device(op, l, l.Primary, "fp-leak")
		if rec.Code == 200 || rec.Code >= 500 {
			t.Fatalf("%s of an unbound machine with the reset key: %d %s", op, rec.Code, rec.Body.String())
		}
		if out := h.decode(rec); out["license_key"] != nil {
			t.Fatalf("%s: an unbound machine was handed a key: %v", op, out)
		}
	}
	if rec, _ := h.device("activate", l, l.Primary, "fp-leak"); rec.Code != 400 {
		t.Fatalf("activation of an unbound machine with a reset key: %d, want 400", rec.Code)
	}
	if n := h.events(); n != before {
		t.Fatalf("the refused calls wrote %d audit events", n-before)
	}
	got, _ := h.store.GetLicense(context.Background(), l.ID)
	if len(got.Machines) != 1 {
		t.Fatalf("bindings %+v", got.Machines)
	}
}

func TestKeyFollowsRenew(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if rec, _ := h.device("activate", l, l.Secondary, "fp-A"); rec.Code != 200 {
		t.Fatalf("activate: %d", rec.Code)
	}
	h.must(200, "POST", "/licenses/"+l.ID+"/renew", adminSecret, map[string]any{"ttl": "730d"})
	_, secondary := h.current(l.ID)
	_, out := h.device("heartbeat", l, l.Secondary, "fp-A")
	h.followKey("renewed, the secondary slot", out, l.ID, secondary)
	lic, _ := h.verifier().Verify(secondary)
	if lic.Slot != "secondary" {
		t.Fatalf("the handed key is of slot %q", lic.Slot)
	}
}

// TestKeyFollowsEmptySlot: a machine whose slot holds no key any more (a
// licence written so by a migration) is handed the other slot's.
func TestKeyFollowsEmptySlot(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", nil)
	if rec, _ := h.device("activate", l, l.Secondary, "fp-A"); rec.Code != 200 {
		t.Fatalf("activate: %d", rec.Code)
	}
	_, err := h.store.UpdateLicense(context.Background(), l.ID, func(x *controlplane.License) ([]controlplane.Event, error) {
		x.Secondary, x.SecondaryDigest = "", ""
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, out := h.device("heartbeat", l, l.Secondary, "fp-A")
	h.followKey("empty secondary slot", out, l.ID, l.Primary)
}

// TestKeyFollowsOnlyReplacedKeys: a key that is not its slot's current one
// but not older than it either — signed by a vendor key, never issued by
// this server — is no replaced key: a bound machine presenting it is handed
// nothing, and its activation stays refused.
func TestKeyFollowsOnlyReplacedKeys(t *testing.T) {
	h := newHarness(t)
	k, err := mint.GenerateKey(license.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.srv.ImportSigningKey(context.Background(), k, true); err != nil {
		t.Fatal(err)
	}
	l := h.issue("ten_a", nil)
	if rec, _ := h.device("activate", l, l.Primary, "fp-A"); rec.Code != 200 {
		t.Fatalf("activate: %d", rec.Code)
	}
	signer, err := mint.NewSigner(k, mint.WithIssuer(issuer), mint.WithClock(h.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := h.verifier().Verify(l.Primary)
	if err != nil {
		t.Fatal(err)
	}
	other, err := signer.License(mint.Claims{ID: l.ID, Subject: cur.Subject, Audience: cur.Audience, TenantID: cur.TenantID,
		Slot: "primary", IssuedAt: cur.IssuedAt.Add(time.Second), ExpiresAt: cur.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	rec, out := h.device("heartbeat", l, other, "fp-A")
	if rec.Code != 200 {
		t.Fatalf("heartbeat: %d %s", rec.Code, rec.Body.String())
	}
	h.followKey("a newer key never issued", out, l.ID, "")
	if rec, _ := h.device("activate", l, other, "fp-A"); rec.Code != 400 {
		t.Fatalf("activation with a key never issued: %d, want 400", rec.Code)
	}
}
