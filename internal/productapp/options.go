package productapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
)

// ErrUsage: the flags ask for something that cannot work. [Main] exits
// with status 2 on it, 1 on any other error.
var ErrUsage = errors.New("productapp: invalid usage")

// Defaults of the flags.
const (
	// DefaultAddr is loopback only: the licence API under /v1/license has
	// no authentication of its own (anyone who reaches it can deactivate
	// the licence), so reaching it from the network is a choice to make
	// with --addr, behind the product's own access control.
	DefaultAddr  = "127.0.0.1:8080"
	DefaultAppID = "licensekit-product"
)

// Options is what the command line asks for; [Parse] fills it.
type Options struct {
	Addr         string // --addr
	KeyFile      string // --key-file
	KeysFile     string // --keys: overrides the embedded keys
	ControlPlane string // --control-plane; "" is offline mode
	StateDir     string // --state-dir
	AppID        string // --app-id
	// OfflineRequest is --offline-request: write an offline activation
	// request to this file and exit.
	OfflineRequest string
	// OfflineResponse is --offline-response: import this offline
	// activation response at start (kept across restarts).
	OfflineResponse string
}

// Parse reads the command line (without the program name). -h prints the
// usage to out and returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("product", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Addr, "addr", DefaultAddr, "`host:port` to listen on")
	fs.StringVar(&o.KeyFile, "key-file", "", "the customer's key `file` (license.json); optional, a key can also be activated through POST /v1/license/activate")
	fs.StringVar(&o.KeysFile, "keys", "", "a JWKS or PEM `file` of the vendor's public keys, instead of the embedded keys.jwks.json")
	fs.StringVar(&o.ControlPlane, "control-plane", "", "the control plane's `URL`, e.g. https://licensing.example.com; absent means offline mode")
	fs.StringVar(&o.StateDir, "state-dir", "", "the `directory` of the licence state (default: /var/lib/<app-id> for a daemon, else the user's config directory)")
	fs.StringVar(&o.AppID, "app-id", DefaultAppID, "the product's `id`: it keys this machine's fingerprint and names the state")
	fs.StringVar(&o.OfflineRequest, "offline-request", "", "write an offline activation request for this machine to `file` and exit (air-gapped machines)")
	fs.StringVar(&o.OfflineResponse, "offline-response", "", "import the offline activation response `file` at start; the activation is kept across restarts")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintf(out, "Usage: product [flags]\n\nA sample product licensed with licensekit. It serves its licence API under\n"+
				"/v1/license and GET /v1/reports, which needs the capability reports:read.\n\nFlags:\n")
			fs.PrintDefaults()
			return o, err
		}
		return o, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q (the product takes flags only)", ErrUsage, fs.Arg(0))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return o, fmt.Errorf("%w: --addr %q: want host:port, e.g. :8080 or 127.0.0.1:8080", ErrUsage, o.Addr)
	}
	if o.AppID == "" {
		return o, fmt.Errorf("%w: --app-id is empty", ErrUsage)
	}
	return o, nil
}
