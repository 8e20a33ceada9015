package postgres_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
	"github.com/licensekit/licensekit/controlplane/storetest"
)

// The store does not depend on the server's default isolation level: on a
// database whose default is repeatable read (a DBA's choice), every
// conformance test passes too, the concurrent ones included.
func TestConformanceRepeatableReadDefault(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) controlplane.Store {
		db := freshDB(t)
		u, err := url.Parse(db)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		adminExec(t, db, `ALTER DATABASE `+name+` SET default_transaction_isolation = 'repeatable read'`)
		s, err := postgres.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
