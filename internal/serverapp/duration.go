package serverapp

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// durationValue is a flag.Value of a duration written as Go writes one
// (90m, 336h) or as a whole number of days (14d), as the HTTP API takes
// them.
type durationValue time.Duration

func (d *durationValue) String() string {
	v := time.Duration(*d)
	switch {
	case v == 0:
		return "0s"
	case v%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	case v%time.Hour == 0:
		return strconv.FormatInt(int64(v/time.Hour), 10) + "h"
	case v%time.Minute == 0:
		return strconv.FormatInt(int64(v/time.Minute), 10) + "m"
	}
	return v.String()
}

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// zeroOrDuration is a durationValue that also takes 0 (off).
type zeroOrDuration struct{ durationValue }

func (d *zeroOrDuration) Set(s string) error {
	if s == "0" || s == "off" {
		d.durationValue = 0
		return nil
	}
	return d.durationValue.Set(s)
}

// parseDuration reads "14d" or a Go duration; it refuses a value that is
// not positive.
func parseDuration(s string) (time.Duration, error) {
	var v time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && strings.Trim(days, "0123456789") == "" {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > 100*365 {
			return 0, errors.New("too many days")
		}
		v = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if v, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want a duration such as 90s, 30m, 1h or 14d")
		}
	}
	if v <= 0 {
		return 0, errors.New("must be positive")
	}
	return v, nil
}
