package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// The walk-through runs end to end against the real control plane, the
// product goes through the states the narration promises, in order, and
// everything it started is stopped when it returns.
func TestWalkThrough(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	// Each state, marked "offline" when the scene's calls failed for the
	// unplugged network.
	var states []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if s, ok := strings.CutPrefix(line, "→ state: "); ok {
			states = append(states, s)
		} else if strings.HasPrefix(line, "(its calls to the control plane fail") && len(states) > 0 {
			states[len(states)-1] += ", offline"
		}
	}
	want := []string{
		"active", "active", // activation, then a heartbeat
		"grace, offline", "locked (GRACE_EXPIRED), offline", // an outage, then past the lease's exp
		"locked (CLOCK_TAMPERED), offline", "active", // the clock put right, then the network back
		"suspended (SUSPENDED)", "active", // suspended, restored
		"active", "active", // primary reset (the new key reaches the product); state lost (the bound machine activates again)
		"locked (REVOKED)", "locked (REVOKED), offline", // revoked, also offline after a restart
	}
	if !slices.Equal(states, want) {
		t.Fatalf("states %q\nwant   %q\n%s", states, want, text)
	}
	for _, s := range []string{
		`$ curl -s -X POST "$CP/licenses" -H "Authorization: Bearer $ADMIN_KEY"`,
		`/keyfile?slot=both" -H "Authorization: Bearer $ADMIN_KEY" > license.json`,
		`$ curl -s "$CP/.well-known/jwks.json" > jwks.json`,
		`capabilities [reports:read reports:export], primary slot`,
		`Require("reports:export") = nil (allowed)`,
		`Require("admin") = CAPABILITY_NOT_GRANTED`,
		"grace left: 14.0 days",
		"carried the slot's new token (license_key)",
		"primary in license.json: invalid (KEY_REPLACED",
		"secondary in license.json: valid",
		"the one the reset made. No redeploy.",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
	// The admin key's secret is sent, never shown.
	if n, m := strings.Count(text, "Bearer "), strings.Count(text, "Bearer $ADMIN_KEY"); n != m || n == 0 {
		t.Errorf("%d of %d Authorization headers shown are not $ADMIN_KEY:\n%s", n-m, n, text)
	}
}
