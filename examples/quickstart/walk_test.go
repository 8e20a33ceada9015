package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// The walk-through runs end to end, and the product goes through the
// states the narration promises, in order.
func TestWalkThrough(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var states []string
	for line := range strings.Lines(out.String()) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "→ state: "); ok {
			states = append(states, s)
		}
	}
	want := []string{
		"active", "grace", "locked (CLOCK_TAMPERED)", "active",
		"suspended (SUSPENDED)", "active", "locked (REVOKED)", "locked (REVOKED)",
	}
	if !slices.Equal(states, want) {
		t.Fatalf("states %q, want %q\n%s", states, want, out.String())
	}
	for _, s := range []string{`Require("reports:export") = nil (allowed)`, `Require("admin") = CAPABILITY_NOT_GRANTED`, "grace left: 14.0 days"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}
