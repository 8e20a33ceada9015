package sqlite

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/licensekit/licensekit/controlplane"
)

// zeroMicro is time.Time{} in Unix microseconds: the earliest value, so a
// zero time compares before every other time in SQL.
const zeroMicro = -62135596800000000

// The range of times kept: years 1 to 9999 in UTC, as PostgreSQL and RFC
// 3339 can carry them too.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// enc encodes values for the database and keeps the first error: a time
// out of range, or a string in a JSON column that is not UTF-8.
type enc struct{ err error }

func (e *enc) time(t time.Time) int64 {
	if t.IsZero() {
		return zeroMicro
	}
	if t.Before(minTime) || t.After(maxTime) {
		e.fail(fmt.Errorf("sqlite: time %v out of range: %w", t, controlplane.ErrInvalid))
		return zeroMicro
	}
	return t.UnixMicro()
}

// filterTime is a time argument taken to the microsecond, clamped into
// the range kept so that a comparison stays right.
func filterTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroMicro
	case t.Before(minTime):
		return minTime.UnixMicro()
	case t.After(maxTime):
		return maxTime.UnixMicro()
	}
	return t.UnixMicro()
}

func (e *enc) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// json encodes a string list or map, refusing strings that JSON would
// silently change (invalid UTF-8 becomes U+FFFD).
func (e *enc) json(v any) string {
	ok := true
	switch v := v.(type) {
	case []string:
		for _, s := range v {
			ok = ok && utf8.ValidString(s)
		}
	case map[string]string:
		for k, s := range v {
			ok = ok && utf8.ValidString(k) && utf8.ValidString(s)
		}
	case map[string]time.Duration:
		for k := range v {
			ok = ok && utf8.ValidString(k)
		}
	}
	if !ok {
		e.fail(fmt.Errorf("sqlite: a listed string is not UTF-8: %w", controlplane.ErrInvalid))
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.fail(fmt.Errorf("sqlite: %w: %v", controlplane.ErrInvalid, err))
		return "null"
	}
	return string(b)
}

func (e *enc) bool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func decTime(v int64) time.Time {
	if v == zeroMicro {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// dec decodes JSON columns and keeps the first error.
type dec struct{ err error }

func (d *dec) json(s string, into any) {
	if err := json.Unmarshal([]byte(s), into); err != nil && d.err == nil {
		d.err = fmt.Errorf("sqlite: stored JSON: %w: %v", controlplane.ErrUnavailable, err)
	}
}
