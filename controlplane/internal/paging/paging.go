// Package paging holds the paging rules every Store implementation shares:
// the page size a limit asks for, and the cursors that name the last item
// of the page before. Licences and API keys are named by their ID, which
// is any string; a machine binding by its two parts, each in unpadded
// base64url, joined by a dot; an audit event by its decimal Seq.
package paging

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
)

// Page sizes: a limit of 0 or less asks for DefaultLimit, and no page is
// longer than MaxLimit.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Limit is the page size p asks for.
func Limit(p controlplane.Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	default:
		return p.Limit
	}
}

// MachineCursor names the binding (licenseID, fingerprint).
func MachineCursor(licenseID, fingerprint string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(licenseID)) + "." + enc.EncodeToString([]byte(fingerprint))
}

// ParseMachineCursor reads a cursor of [MachineCursor]; anything else is
// an error wrapping [controlplane.ErrInvalid] that names the store.
func ParseMachineCursor(store, c string) (licenseID, fingerprint string, err error) {
	a, b, ok := strings.Cut(c, ".")
	enc := base64.RawURLEncoding
	lid, err1 := enc.DecodeString(a)
	fp, err2 := enc.DecodeString(b)
	if !ok || err1 != nil || err2 != nil {
		return "", "", fmt.Errorf("%s: machine cursor %.40q: %w", store, c, controlplane.ErrInvalid)
	}
	return string(lid), string(fp), nil
}

// ParseEventCursor reads an event cursor: a positive decimal Seq.
func ParseEventCursor(store, c string) (int64, error) {
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: event cursor %.40q: %w", store, c, controlplane.ErrInvalid)
	}
	return n, nil
}
