package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/licensekit/licensekit/controlplane"
)

// TestFailMapsDriverErrors: every class of driver error becomes the
// sentinel the caller branches on.
func TestFailMapsDriverErrors(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want []error
	}{
		{context.Background(), pg("23505"), []error{controlplane.ErrAlreadyExists}},
		{context.Background(), pg("40001"), []error{controlplane.ErrConflict}},
		{context.Background(), pg("40P01"), []error{controlplane.ErrConflict}},
		{context.Background(), pg("55P03"), []error{controlplane.ErrConflict}},
		{context.Background(), pg("57014"), []error{controlplane.ErrUnavailable}},
		{context.Background(), pg("57P01"), []error{controlplane.ErrUnavailable}},
		{context.Background(), pg("08006"), []error{controlplane.ErrUnavailable}},
		{context.Background(), pg("53300"), []error{controlplane.ErrUnavailable}},
		{context.Background(), pg("22021"), []error{controlplane.ErrInvalid}},
		{context.Background(), pg("22008"), []error{controlplane.ErrInvalid}},
		{context.Background(), pg("54000"), []error{controlplane.ErrInvalid}},
		{context.Background(), io.ErrUnexpectedEOF, []error{controlplane.ErrUnavailable}},
		{context.Background(), errors.New("closed pool"), []error{controlplane.ErrUnavailable}},
		{context.Background(), fmt.Errorf("x: %w", controlplane.ErrNotFound), []error{controlplane.ErrNotFound}},
		{cancelled, pg("57014"), []error{controlplane.ErrUnavailable, context.Canceled}},
		{context.Background(), fmt.Errorf("read: %w", context.DeadlineExceeded), []error{controlplane.ErrUnavailable, context.DeadlineExceeded}},
	} {
		got := fail(c.ctx, "call", c.err)
		for _, w := range c.want {
			if !errors.Is(got, w) {
				t.Errorf("fail(%v) = %v, want %v", c.err, got, w)
			}
		}
		var pe *pgconn.PgError
		if errors.As(got, &pe) {
			t.Errorf("fail(%v) = %v carries the driver's error type", c.err, got)
		}
	}
}
