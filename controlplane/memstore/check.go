package memstore

import (
	"fmt"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// The range of times every store keeps: years 1 to 9999 in UTC.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// checkTimes refuses a time outside the range kept; the zero time is kept.
func checkTimes(ts ...time.Time) error {
	for _, t := range ts {
		if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
			return fmt.Errorf("memstore: time %v out of range: %w", t, controlplane.ErrInvalid)
		}
	}
	return nil
}

func checkLicense(l *controlplane.License) error {
	if err := checkTimes(l.IssuedAt, l.ExpiresAt, l.UpdatedAt); err != nil {
		return err
	}
	for _, m := range l.Machines {
		if err := checkTimes(m.ActivatedAt, m.LastHeartbeatAt, m.DueAt, m.LeaseIssuedAt, m.LeaseExpiresAt, m.ReleasedAt); err != nil {
			return err
		}
	}
	return nil
}

func checkEvents(events []controlplane.Event) error {
	for _, e := range events {
		if err := checkTimes(e.Time); err != nil {
			return err
		}
	}
	return nil
}
