package postgres

import (
	"fmt"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/internal/paging"
)

// The paging rules and cursors every store shares (package paging), with
// the one check of this store: a cursor's strings must be storable.

func limit(p controlplane.Page) int { return paging.Limit(p) }

// A cursor names the last item of the page before. Licences and API keys
// are named by their ID, which is any storable string; a binding by its
// two parts, each in unpadded base64url; an event by its decimal Seq.

func idCursor(c string) (string, error) {
	if !storable(c) {
		return "", fmt.Errorf("postgres: cursor %.40q: %w", c, controlplane.ErrInvalid)
	}
	return c, nil
}

func machineCursor(licenseID, fingerprint string) string {
	return paging.MachineCursor(licenseID, fingerprint)
}

func parseMachineCursor(c string) (licenseID, fingerprint string, err error) {
	lid, fp, err := paging.ParseMachineCursor("postgres", c)
	if err == nil && (!storable(lid) || !storable(fp)) {
		err = fmt.Errorf("postgres: machine cursor %.40q: %w", c, controlplane.ErrInvalid)
	}
	return lid, fp, err
}

func parseEventCursor(c string) (int64, error) { return paging.ParseEventCursor("postgres", c) }
