// Command licensectl is the control plane's admin command line: issue,
// inspect, revoke and download licences, manage API keys and signing keys,
// read the audit log, and verify a customer's key file offline.
//
// Everything it does lives in package cmd; this file only wires the process
// to it. Run "licensectl --help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/licensekit/licensekit/examples/licensectl/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cmd.Run(ctx, os.Args[1:], cmd.OSEnv())
	stop()
	os.Exit(code)
}
