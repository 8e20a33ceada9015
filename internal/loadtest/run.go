package loadtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// Report is what one Run measured.
type Report struct {
	Config        Config
	Issued        time.Duration // issuing every licence
	Activated     time.Duration // activating every licence
	Floor, Server Result
}

// Ratio is the control plane's rate over the floor's.
func (r Report) Ratio() float64 {
	if f := r.Floor.Rate(); f > 0 {
		return r.Server.Rate() / f
	}
	return 0
}

// Run provisions the control plane, measures the floor and then the
// control plane, writes the figures to w, and returns them.
func Run(ctx context.Context, c Config, w io.Writer) (Report, error) {
	c, err := c.withDefaults()
	rep := Report{Config: c}
	if err != nil {
		return rep, err
	}
	dir := c.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "licensekit-loadtest-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(w, "licensekit heartbeat load: %d licences, %d clients, %s per run (after %s warm-up), loopback, GOMAXPROCS=%d, %s\n",
		c.Licences, c.Clients, c.Duration, c.Warmup, runtime.GOMAXPROCS(0), runtime.Version())
	cache := "off"
	if c.LicenseCache > 0 {
		cache = c.LicenseCache.String()
	}
	fmt.Fprintf(w, "control plane: examples/server in this process over SQLite, licence cache %s, rate limits off "+
		"(a licence beating many times a second would be refused by design)\n", cache)

	cp, err := startControlPlane(ctx, dir, c.LicenseCache)
	if err != nil {
		return rep, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cp.stop()
		}
	}()
	targets, issued, activated, err := provision(ctx, cp, c.Licences)
	if err != nil {
		return rep, err
	}
	rep.Issued, rep.Activated = issued, activated
	fmt.Fprintf(w, "setup: issued %d licences in %s (%.0f/s), activated them in %s (%.0f/s)\n",
		c.Licences, issued.Round(time.Millisecond), float64(c.Licences)/issued.Seconds(),
		activated.Round(time.Millisecond), float64(c.Licences)/activated.Seconds())

	f, err := startFloor()
	if err != nil {
		return rep, err
	}
	rep.Floor = drive(ctx, "floor (net/http + mint Ed25519)", f.url(), targets, c.Clients, c.Warmup, c.Duration)
	f.close()

	var prof *os.File
	if c.CPUProfile != "" {
		if prof, err = os.Create(c.CPUProfile); err != nil {
			return rep, err
		}
		defer prof.Close()
	}
	rep.Server = driveProfiled(ctx, "control plane (SQLite)", cp.app.URL(), targets, c, prof)
	stopped = true
	if err := cp.stop(); err != nil {
		return rep, err
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	printReport(w, rep)
	return rep, nil
}

// driveProfiled is drive with a CPU profile of the measured part.
func driveProfiled(ctx context.Context, name, url string, targets []target, c Config, prof *os.File) Result {
	if c.Warmup > 0 {
		dc := newDeviceClient(url, c.Clients)
		beatFor(ctx, dc, targets, c.Clients, c.Warmup)
		dc.CloseIdleConnections()
	}
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err == nil {
			defer pprof.StopCPUProfile()
		}
	}
	return drive(ctx, name, url, targets, c.Clients, 0, c.Duration)
}

func printReport(w io.Writer, r Report) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "\n%-34s %9s %7s %9s %9s %9s %9s %9s\n", "", "requests", "errors", "req/s", "p50", "p90", "p99", "max")
	for _, res := range []Result{r.Floor, r.Server} {
		fmt.Fprintf(w, "%-34s %9d %7d %9.0f %9s %9s %9s %9s\n", res.Name, res.Requests, res.Errors, res.Rate(),
			ms(res.P50), ms(res.P90), ms(res.P99), ms(res.Max))
		if res.FirstErr != nil {
			fmt.Fprintf(w, "    first error: %v\n", res.FirstErr)
		}
	}
	met := r.Ratio() >= 0.40 && r.Server.P99 <= 50*time.Millisecond && r.Server.Errors == 0 && r.Floor.Errors == 0
	verdict := "met"
	if !met {
		verdict = "missed"
	}
	fmt.Fprintf(w, "\ncontrol plane / floor: %.2f of the rate (%.0f%%); target >= 40%%, p99 <= 50ms, no errors: %s\n",
		r.Ratio(), 100*r.Ratio(), verdict)
}
