package postgres

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// limit applies the paging rules every store shares.
func limit(p controlplane.Page) int {
	switch {
	case p.Limit <= 0:
		return defaultLimit
	case p.Limit > maxLimit:
		return maxLimit
	default:
		return p.Limit
	}
}

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
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(licenseID)) + "." + enc.EncodeToString([]byte(fingerprint))
}

func parseMachineCursor(c string) (licenseID, fingerprint string, err error) {
	a, b, ok := strings.Cut(c, ".")
	enc := base64.RawURLEncoding
	lid, err1 := enc.DecodeString(a)
	fp, err2 := enc.DecodeString(b)
	if !ok || err1 != nil || err2 != nil || !storable(string(lid)) || !storable(string(fp)) {
		return "", "", fmt.Errorf("postgres: machine cursor %.40q: %w", c, controlplane.ErrInvalid)
	}
	return string(lid), string(fp), nil
}

func parseEventCursor(c string) (int64, error) {
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("postgres: event cursor %.40q: %w", c, controlplane.ErrInvalid)
	}
	return n, nil
}
