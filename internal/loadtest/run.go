package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/licensekit/licensekit/heartbeat"
)

// Report is what one Run measured.
type Report struct {
	Config        Config
	Issued        time.Duration // issuing every licence
	Activated     time.Duration // activating every licence
	Floor, Server Result
	// Two is the run against two servers on one PostgreSQL database
	// (Config.Servers 2), on machines of its own; zero otherwise.
	Two Result
	// Checked machines had their newest lease's bookkeeping looked up in
	// the database after the servers stopped; Lost of them had an older
	// one stored than a lease they were answered (PostgreSQL only).
	Checked, Lost int
	// Costs is what an activation and a beat cost the database
	// (PostgreSQL only).
	Costs *Costs
}

// Ratio is the control plane's rate over the floor's.
func (r Report) Ratio() float64 {
	if f := r.Floor.Rate(); f > 0 {
		return r.Server.Rate() / f
	}
	return 0
}

// Run provisions the control plane, measures the floor and then the
// control plane (one server, then two on PostgreSQL with Config.Servers
// 2), writes the figures to w, and returns them.
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
	store, db, keyFile := "SQLite", filepath.Join(dir, "loadtest.db"), ""
	var scratch *scratchDB
	if c.DB != "" {
		if scratch, err = createScratchDB(ctx, c.DB); err != nil {
			return rep, err
		}
		defer func() {
			if derr := scratch.drop(); derr != nil && err == nil {
				err = derr
			}
		}()
		store, db, keyFile = "PostgreSQL", scratch.url, filepath.Join(dir, "loadtest.secret")
		fmt.Fprintf(w, "database: PostgreSQL, database %s created for the run on %s, dropped after it\n", scratch.name, scratch.hostPort())
	}
	fmt.Fprintf(w, "control plane: examples/server in this process over %s, licence cache %s, rate limits off "+
		"(a licence beating many times a second would be refused by design)\n", store, cache)

	admin := newAdminSecret()
	var cps []*controlPlane
	defer func() {
		for _, cp := range cps {
			_ = cp.stop()
		}
	}()
	for range c.Servers {
		cp, err := startControlPlane(ctx, db, keyFile, admin, c.LicenseCache)
		if err != nil {
			return rep, err
		}
		cps = append(cps, cp)
	}
	targets, issued, activated, err := provision(ctx, cps[:1], c.Licences, "one")
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
	rep.Floor, _ = drive(ctx, "floor (net/http + mint Ed25519)", []string{f.url()}, targets, c.Clients, c.Warmup, c.Duration)
	f.close()

	var prof *os.File
	if c.CPUProfile != "" {
		if prof, err = os.Create(c.CPUProfile); err != nil {
			return rep, err
		}
		defer prof.Close()
	}
	name := "control plane (" + store + ")"
	if c.DB != "" {
		name = "control plane (PostgreSQL, 1 server)"
	}
	var last []string
	rep.Server, last = driveProfiled(ctx, name, cps[0].app.URL(), targets, c, prof)
	checks := []check{{targets, last}}
	if c.Servers == 2 {
		// Machines of their own, activated through both: the first run
		// pushed its machines' lease iats ahead of the clock in the first
		// server's memory.
		two, _, _, err := provision(ctx, cps, c.Licences, "two")
		if err != nil {
			return rep, err
		}
		urls := []string{cps[0].app.URL(), cps[1].app.URL()}
		rep.Two, last = drive(ctx, "control plane (PostgreSQL, 2 servers)", urls, two, c.Clients, c.Warmup, c.Duration)
		checks = append(checks, check{two, last})
	}
	var stopErr error
	for _, cp := range cps {
		stopErr = errors.Join(stopErr, cp.stop())
	}
	cps = nil
	if stopErr != nil {
		return rep, stopErr
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if scratch != nil {
		if rep.Checked, rep.Lost, err = checkStored(ctx, scratch.url, checks); err != nil {
			return rep, err
		}
		costs, err := measureCosts(ctx, scratch, keyFile, admin, min(c.Licences, 200))
		if err != nil {
			return rep, err
		}
		rep.Costs = &costs
	}
	printReport(w, rep)
	return rep, nil
}

// driveProfiled is drive with a CPU profile of the measured part.
func driveProfiled(ctx context.Context, name, url string, targets []target, c Config, prof *os.File) (Result, []string) {
	if c.Warmup > 0 {
		dc := newDeviceClient(url, c.Clients)
		beatFor(ctx, []*heartbeat.Client{dc}, targets, c.Clients, c.Warmup)
		dc.CloseIdleConnections()
	}
	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err == nil {
			defer pprof.StopCPUProfile()
		}
	}
	return drive(ctx, name, []string{url}, targets, c.Clients, 0, c.Duration)
}
