package controlplane_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

// slowListStore widens the window between a process reading the signing
// keys and acting on them, where servers starting together used to
// activate different first keys.
type slowListStore struct {
	*memstore.Store
}

func (s slowListStore) ListSigningKeys(ctx context.Context) ([]controlplane.SigningKey, error) {
	ks, err := s.Store.ListSigningKeys(ctx)
	time.Sleep(2 * time.Millisecond)
	return ks, err
}

// Servers starting together on one empty store agree on one first key:
// each signs with it, and every other key created then is retired, not
// left published.
func TestFirstStartsAgreeOnOneKey(t *testing.T) {
	for round := range 20 {
		store := slowListStore{memstore.New()}
		const n = 4
		hs := make([]*harness, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				hs[i] = &harness{t: t, store: store.Store, clock: &clock{t: t0}}
				srv, err := controlplane.New(context.Background(), controlplane.Config{
					Store: store, Issuer: issuer, AdminKey: adminSecret, Clock: hs[i].clock.Now,
					SecretKey:       bytes.Repeat([]byte{7}, 32),
					DeviceRateLimit: controlplane.RateLimit{PerSecond: -1},
					AdminRateLimit:  controlplane.RateLimit{PerSecond: -1},
				})
				if err != nil {
					t.Errorf("New %d: %v", i, err)
					return
				}
				hs[i].srv = srv
				t.Cleanup(func() { srv.Close() })
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		keys, err := store.ListSigningKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		active := ""
		for _, k := range keys {
			switch k.State {
			case controlplane.SigningActive:
				if active != "" {
					t.Fatalf("round %d: keys %s and %s both active", round, active, k.KID)
				}
				active = k.KID
			case controlplane.SigningRetired:
			default:
				t.Fatalf("round %d: key %s is %s after the first starts, want active or retired", round, k.KID, k.State)
			}
		}
		if active == "" {
			t.Fatalf("round %d: no active key among %d", round, len(keys))
		}
		for i, h := range hs {
			if kid := tokenKID(t, h.issue("ten_a", nil).Primary); kid != active {
				t.Fatalf("round %d: server %d signs with %s, the store's active key is %s", round, i, kid, active)
			}
		}
	}
}

func tokenKID(t *testing.T, jws string) string {
	t.Helper()
	head, _, _ := strings.Cut(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("token %q: %v", jws, err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.KID == "" {
		t.Fatalf("token header %s: %v", raw, err)
	}
	return h.KID
}
