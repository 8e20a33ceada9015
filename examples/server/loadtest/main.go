// Command loadtest measures the control plane's heartbeats on loopback
// against a floor measured in the same run: a bare net/http handler that
// only decodes the request and signs a lease with Ed25519.
//
//	go run ./examples/server/loadtest                        # 200 licences, 64 clients, 10 s, SQLite
//	go run ./examples/server/loadtest -clients 16 -duration 5s -cpuprofile cpu.out
//	go tool pprof -top cpu.out
//	eval "$(bash .ci/postgres)"                              # a private PostgreSQL for tests
//	go run ./examples/server/loadtest -db "$LICENSEKIT_TEST_POSTGRES" -servers 2
//
// With -db the control plane runs on PostgreSQL, in a database the run
// creates on that server and drops at the end; -servers 2 then also
// measures two servers on it, and the run counts what an activation and
// a heartbeat cost the database (round trips, rows written).
//
// It runs for a bounded time and prints its figures; see internal/loadtest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/licensekit/licensekit/internal/loadtest"
)

func main() {
	var c loadtest.Config
	flag.IntVar(&c.Licences, "licences", loadtest.DefaultLicences, "licences to issue and activate, one machine each")
	flag.IntVar(&c.Clients, "clients", loadtest.DefaultClients, "concurrent clients beating")
	flag.DurationVar(&c.Duration, "duration", loadtest.DefaultDuration, "length of each measured run")
	flag.DurationVar(&c.Warmup, "warmup", loadtest.DefaultWarmup, "uncounted beating before each run (negative: none)")
	flag.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the control plane's run to `file`")
	flag.DurationVar(&c.LicenseCache, "license-cache", 0, "the server's --license-cache (0: its default; negative: off)")
	flag.StringVar(&c.Dir, "dir", "", "`directory` for the SQLite database or the secret key file (default: a temporary one, removed)")
	flag.StringVar(&c.DB, "db", "", "a postgres:// `URL` of a server to run on, whose user may create databases (default: SQLite)")
	flag.IntVar(&c.Servers, "servers", 1, "control planes on the PostgreSQL database, 1 or 2 (with 2, both are measured after one)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	_, err := loadtest.Run(ctx, c, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
