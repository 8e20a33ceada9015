package memstore

import (
	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/internal/paging"
)

// The paging rules and cursors every store shares (package paging).

func limit(p controlplane.Page) int { return paging.Limit(p) }

func machineCursor(licenseID, fingerprint string) string {
	return paging.MachineCursor(licenseID, fingerprint)
}

func parseMachineCursor(c string) (licenseID, fingerprint string, err error) {
	return paging.ParseMachineCursor("memstore", c)
}

func parseEventCursor(c string) (int64, error) { return paging.ParseEventCursor("memstore", c) }
