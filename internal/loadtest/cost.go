package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/heartbeat"
)

// Costs is what one activation and one heartbeat cost the database,
// counted on a server of their own whose connections pass through a
// counting proxy, one call at a time after a few uncounted ones (the
// first calls on a connection prepare its statements).
type Costs struct {
	Activations, Beats int
	// Round trips and rows written (inserted, updated or deleted, in any
	// table) by all the activations and by all the beats. The beats'
	// include the batched write of their bookkeeping, which the server
	// makes behind the answers.
	ActivationTrips, ActivationRows int64
	BeatTrips, BeatRows             int64
}

// warm is the calls of each kind made before counting.
const warm = 5

// measureCosts issues n+warm licences through a fresh control plane on
// db reached through a counting proxy, then counts n activations and
// one heartbeat of each activated machine.
func measureCosts(ctx context.Context, db *scratchDB, keyFile, admin string, n int) (Costs, error) {
	c := Costs{Activations: n, Beats: n}
	px, err := startProxy(db.hostPort())
	if err != nil {
		return c, err
	}
	defer px.close()
	rc, err := installRowCounter(ctx, db.url)
	if err != nil {
		return c, err
	}
	defer rc.close()
	cp, err := startControlPlane(ctx, db.via(px.addr()), keyFile, admin, 0)
	if err != nil {
		return c, err
	}
	defer cp.stop()

	hc := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	dc := newDeviceClient(cp.app.URL(), 1)
	defer dc.CloseIdleConnections()
	targets := make([]target, n+warm)
	for i := range targets {
		id, tok, err := issueOne(ctx, hc, cp.app.URL(), admin, i)
		if err != nil {
			return c, err
		}
		fp, err := fingerprint.Compute(ctx, "loadtest", fingerprint.WithMachineID(fmt.Sprintf("loadtest-cost-%06d", i)))
		if err != nil {
			return c, err
		}
		targets[i] = target{licenseID: id, token: tok, fingerprint: fp.String()}
	}
	req := func(t target) heartbeat.Request {
		return heartbeat.Request{LicenseID: t.licenseID, Token: t.token, Fingerprint: t.fingerprint, IdempotencyKey: heartbeat.NewIdempotencyKey()}
	}
	count := func(calls []target, call func(heartbeat.Request) error, settle time.Duration) (trips, rows int64, err error) {
		t0, r0 := px.trips.Load(), int64(0)
		if r0, err = rc.written(ctx); err != nil {
			return 0, 0, err
		}
		for _, t := range calls {
			if err := call(req(t)); err != nil {
				return 0, 0, err
			}
		}
		time.Sleep(settle)
		r1, err := rc.written(ctx)
		return px.trips.Load() - t0, r1 - r0, err
	}
	activate := func(r heartbeat.Request) error { _, err := dc.Activate(ctx, r); return err }
	beat := func(r heartbeat.Request) error { _, err := dc.Heartbeat(ctx, r); return err }

	if _, _, err := count(targets[:warm], activate, 0); err != nil {
		return c, fmt.Errorf("loadtest: activating: %w", err)
	}
	if c.ActivationTrips, c.ActivationRows, err = count(targets[warm:], activate, 0); err != nil {
		return c, fmt.Errorf("loadtest: activating: %w", err)
	}
	// A beat in the second of its machine's last lease would be written
	// before it is answered (its lease's iat is pushed past the second);
	// a machine beats an interval later, so wait for the next second.
	time.Sleep(1100 * time.Millisecond)
	// Settle past the write-behind interval (one second) after each
	// part, so that the batched write of the warm beats is not counted
	// and that of the counted ones is.
	if _, _, err := count(targets[:warm], beat, 1500*time.Millisecond); err != nil {
		return c, fmt.Errorf("loadtest: beating: %w", err)
	}
	if c.BeatTrips, c.BeatRows, err = count(targets[warm:], beat, 1500*time.Millisecond); err != nil {
		return c, fmt.Errorf("loadtest: beating: %w", err)
	}
	return c, nil
}
