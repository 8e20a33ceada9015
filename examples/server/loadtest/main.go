// Command loadtest measures the control plane's heartbeats on loopback
// against a floor measured in the same run: a bare net/http handler that
// only decodes the request and signs a lease with Ed25519.
//
//	go run ./examples/server/loadtest                        # 200 licences, 64 clients, 10 s
//	go run ./examples/server/loadtest -clients 16 -duration 5s -cpuprofile cpu.out
//	go tool pprof -top cpu.out
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
	flag.StringVar(&c.Dir, "dir", "", "`directory` for the database (default: a temporary one, removed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	_, err := loadtest.Run(ctx, c, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
