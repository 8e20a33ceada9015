package controlplane

import (
	"strconv"
	"strings"
	"time"
)

// maxIDLen bounds every id taken from a path or a body.
const maxIDLen = 128

// validID reports whether s may be an id of ours: 1 to 128 characters of
// [A-Za-z0-9_.:-], not "." or "..". Anything else — SQL, paths, control
// characters — names nothing and is answered 404 without asking the store.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// visibleASCII reports whether s is 1 to max visible ASCII characters.
func visibleASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// parseDuration reads a duration as the API takes it: a whole number with
// one of the units s, m, h, d ("90d", "36h"), or a Go duration ("1h30m").
// It must be positive and at most max.
func parseDuration(s string, max time.Duration) (time.Duration, error) {
	if s == "" || len(s) > 32 {
		return 0, validationf("duration %q: want a number with a unit, like 90d or 36h", clip(s, 32))
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err != nil || days <= 0 || days > int64(max/(24*time.Hour)) {
			return 0, validationf("duration %q: want 1 to %d days", clip(s, 32), int64(max/(24*time.Hour)))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, validationf("duration %q: want a number with a unit, like 90d or 36h", clip(s, 32))
		}
	}
	if d <= 0 || d > max {
		return 0, validationf("duration %q: want more than 0 and at most %s", clip(s, 32), formatDuration(max))
	}
	return d, nil
}

// formatDuration writes d in the largest whole unit: "14d", "36h", "90m",
// "45s"; other values as Go writes them.
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// formatTime writes an instant as RFC 3339 in UTC; zero is "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// parseLimit reads the limit query parameter: absent is 100, else 1..1000.
func parseLimit(s string) (int, error) {
	if s == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, validationf("limit must be an integer from 1 to 1000")
	}
	return n, nil
}

// parseCursor checks the cursor query parameter's shape; its meaning is
// the store's.
func parseCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if !visibleASCII(s, 512) {
		return "", validationf("invalid cursor")
	}
	return s, nil
}

// Bounds on durations the API accepts.
const (
	day            = 24 * time.Hour
	maxTTL         = 36500 * day // a hundred years, well before the year 9999
	maxKeyLifetime = 3650 * day
	minInterval    = time.Minute
	maxInterval    = 30 * day
	minGrace       = time.Hour
	maxGrace       = 3650 * day
	maxSince       = 36500 * day
)
