package loadtest

import (
	"slices"
	"time"
)

// Result is what one measured run did.
type Result struct {
	Name     string
	Requests int // answered with success
	Errors   int // failed requests of any kind
	FirstErr error
	Elapsed  time.Duration
	P50, P90 time.Duration
	P99, Max time.Duration
}

// Rate is successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// summarise sorts the latencies and fills the percentiles.
func summarise(name string, lat []time.Duration, errs int, first error, elapsed time.Duration) Result {
	slices.Sort(lat)
	r := Result{Name: name, Requests: len(lat), Errors: errs, FirstErr: first, Elapsed: elapsed}
	if len(lat) == 0 {
		return r
	}
	pick := func(q float64) time.Duration {
		i := int(q*float64(len(lat))+0.5) - 1
		return lat[min(max(i, 0), len(lat)-1)]
	}
	r.P50, r.P90, r.P99, r.Max = pick(.50), pick(.90), pick(.99), lat[len(lat)-1]
	return r
}
