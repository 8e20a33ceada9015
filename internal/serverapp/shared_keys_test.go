package serverapp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
)

// A signing key activated through one server is the key the other signs
// leases with within signingBound; a key retired through one server stops
// verifying licence tokens on the other within the same bound, whatever
// the other's cache of verified tokens holds.
func TestSharedSigningKeyRotation(t *testing.T) {
	sh := startShared(t, "", 2)
	ctx := context.Background()
	devs := []*heartbeat.Client{sh.device(t, 0), sh.device(t, 1)}
	l := sh.issueMax(t, 0, 1, nil)
	req := deviceReq(l, "fp-rotation")
	first, err := devs[0].Activate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	oldKID := leaseKID(t, first.Lease)

	code, out := sh.adminCall(t, 0, "POST", "/signing-keys", map[string]any{"alg": "EdDSA"})
	if code != http.StatusCreated {
		t.Fatalf("POST /signing-keys: %d %v", code, out)
	}
	newKID := out["signing_key"].(map[string]any)["kid"].(string)
	if r, err := devs[1].Heartbeat(ctx, req); err != nil || leaseKID(t, r.Lease) != oldKID {
		t.Fatalf("server 1 before the activation: %v %v", r, err) // and it has loaded the keys now
	}
	if code, out := sh.adminCall(t, 0, "POST", "/signing-keys/"+newKID+"/activate", nil); code != http.StatusOK {
		t.Fatalf("activate: %d %v", code, out)
	}

	if r, err := devs[0].Heartbeat(ctx, req); err != nil || leaseKID(t, r.Lease) != newKID {
		t.Fatalf("server 0 right after the activation it made: %v %v", r, err)
	}
	took, err := eventually(signingBound+slack, func() error {
		r, err := devs[1].Heartbeat(ctx, req)
		if err != nil {
			return err
		}
		if kid := leaseKID(t, r.Lease); kid != newKID {
			return fmt.Errorf("server 1 signs with %s, not %s", kid, newKID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the key activated through server 0: %v", err)
	}
	t.Logf("server 1 signed with the new key %v after the activation answered", took.Round(time.Millisecond))
	code, out = sh.adminCall(t, 1, "GET", "/.well-known/jwks.json", nil)
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(out), newKID) || !strings.Contains(fmt.Sprint(out), oldKID) {
		t.Fatalf("server 1's JWKS: %d %v", code, out)
	}

	// Retire the old key, which signed the licence token: the token stops
	// verifying on both servers within the bound.
	if code, out := sh.adminCall(t, 0, "POST", "/signing-keys/"+oldKID+"/retire", nil); code != http.StatusOK {
		t.Fatalf("retire: %d %v", code, out)
	}
	retired := time.Now()
	if _, err := devs[0].Heartbeat(ctx, req); !errors.Is(err, heartbeat.ErrRejected) {
		t.Fatalf("server 0 right after the retirement it made: %v, want a rejection", err)
	}
	took, err = eventually(signingBound+slack-time.Since(retired), func() error {
		_, err := devs[1].Heartbeat(ctx, req)
		if errors.Is(err, heartbeat.ErrRejected) {
			return nil
		}
		return fmt.Errorf("server 1 still takes a token of the retired key: %v", err)
	})
	if err != nil {
		t.Fatalf("the key retired through server 0: %v", err)
	}
	t.Logf("server 1 refused the retired key's token %v after the retirement answered", took.Round(time.Millisecond))
}

// A setting changed through one server is what the other answers within
// settingsBound.
func TestSharedSettings(t *testing.T) {
	sh := startShared(t, "", 2)
	ctx := context.Background()
	dev := sh.device(t, 1)
	l := sh.issueMax(t, 0, 1, nil)
	req := deviceReq(l, "fp-settings")
	r, err := dev.Activate(ctx, req)
	if err != nil || r.NextHeartbeat != time.Hour {
		t.Fatalf("activate: %+v %v", r, err)
	}
	if code, out := sh.adminCall(t, 0, "PUT", "/settings", map[string]any{"heartbeat_interval": "2h"}); code != http.StatusOK {
		t.Fatalf("PUT /settings: %d %v", code, out)
	}
	took, err := eventually(settingsBound+slack, func() error {
		r, err := dev.Heartbeat(ctx, req)
		if err != nil {
			return err
		}
		if r.NextHeartbeat != 2*time.Hour {
			return fmt.Errorf("server 1 answers next_heartbeat %v", r.NextHeartbeat)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the interval set through server 0: %v", err)
	}
	t.Logf("server 1 answered the new interval %v after the change", took.Round(time.Millisecond))
}
