package productapp_test

import (
	"strings"
	"testing"

	"github.com/licensekit/licensekit/license/licensetest"
)

// On a loopback address the product does not warn that its licence API
// is reachable from other machines.
func TestAttack2NoWarningOnLoopback(t *testing.T) {
	logs := &syncBuffer{}
	_, stop := start(t, licensetest.NewIssuer(t), t.TempDir(), logs)
	stop()
	if !strings.Contains(logs.String(), "product listening") {
		t.Fatalf("no start-up log at all:\n%s", logs)
	}
	if strings.Contains(logs.String(), "reachable from other machines") {
		t.Fatalf("a loopback product warned that it is reachable:\n%s", logs)
	}
}
