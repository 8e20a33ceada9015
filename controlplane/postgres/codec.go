package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/controlplane"
)

// The range of times kept: years 1 to 9999 in UTC, as RFC 3339 and the
// other stores carry them. The zero time is stored as itself, the first
// instant of year 1, the earliest value kept, so comparisons stay right.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// storable reports whether PostgreSQL text can hold s as it is: UTF-8
// without a NUL byte. A string that is not storable cannot name anything
// stored.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// enc encodes values for the database and keeps the first error: a time
// out of range, or a string PostgreSQL would refuse or JSON would change.
type enc struct{ err error }

func (e *enc) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("postgres: "+format+": %w", append(args, controlplane.ErrInvalid)...)
	}
}

// time is t to the microsecond in UTC, the precision PostgreSQL keeps;
// it is truncated here so that no rounding happens on the way.
func (e *enc) time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	if t.Before(minTime) || t.After(maxTime) {
		e.fail("time %v out of range", t)
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (e *enc) str(s string) string {
	if !storable(s) {
		e.fail("string %.40q is not UTF-8 or holds a NUL byte", s)
	}
	return s
}

// json encodes a string list or map, refusing strings that JSON would
// change (invalid UTF-8 becomes U+FFFD) or that jsonb refuses (\u0000).
func (e *enc) json(v any) string {
	switch v := v.(type) {
	case []string:
		for _, s := range v {
			e.str(s)
		}
	case map[string]string:
		for k, s := range v {
			e.str(k)
			e.str(s)
		}
	case map[string]time.Duration:
		for k := range v {
			e.str(k)
		}
	}
	if e.err != nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.fail("%v", err)
		return "null"
	}
	return string(b)
}

// filterTime is a time argument taken to the microsecond, clamped into
// the range kept so that a comparison stays right.
func filterTime(t time.Time) time.Time {
	switch {
	case t.IsZero():
		return time.Time{}
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t.UTC().Truncate(time.Microsecond)
}

// utc is a stored time as the contract hands it out: in UTC, the zero
// time zero.
func utc(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

// dec decodes jsonb columns and keeps the first error.
type dec struct{ err error }

func (d *dec) json(b []byte, into any) {
	if err := json.Unmarshal(b, into); err != nil && d.err == nil {
		d.err = fmt.Errorf("postgres: stored JSON: %w: %v", controlplane.ErrUnavailable, err)
	}
}
