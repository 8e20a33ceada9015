package license_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// Manager must leave nothing behind once Close returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
