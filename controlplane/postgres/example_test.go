package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/postgres"
)

func ExampleOpen() {
	ctx := context.Background()
	// A server would take the URL from its --db flag; this one has a
	// mistake in it, which Open names without repeating the password.
	s, err := postgres.Open(ctx, "postgres://licensekit:s3cret@db.internal:5432/licensekit?sslmode=always",
		postgres.StatementTimeout(2*time.Second))
	if err != nil {
		fmt.Println(err)
		fmt.Println("retry later:", errors.Is(err, controlplane.ErrUnavailable))
		return
	}
	defer s.Close()
	// Output:
	// postgres: cannot open the database: postgres://licensekit:xxxxx@db.internal:5432/licensekit?sslmode=always: sslmode is invalid
	// retry later: false
}
