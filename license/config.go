package license

import (
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
)

// EnvGrace names an environment variable that shortens the offline grace
// window, as a Go duration ("72h"). It can never lengthen what the signed
// lease allows; values that do not parse, or are not positive, are ignored.
const EnvGrace = "LICENSEKIT_GRACE"

// Config configures [Open]. The zero value of every optional field does the
// safe, sensible thing.
type Config struct {
	// Keys verifies licence tokens and leases. Required.
	Keys *Keyring
	// KeyFile is the path of the customer's downloaded key file (see
	// [ParseKeyFile]). A missing or invalid file is not an error of Open:
	// the manager starts in [StateUnlicensed] and Status says why. The
	// manager notices a file replaced in place (a renewed licence dropped
	// over the old one) within [KeyFileCheckInterval], or at once on
	// [Manager.Reload]. A key installed with [Manager.Activate] takes the
	// place of this file until [Manager.Deactivate] removes it.
	KeyFile string
	// AppID names the product. It keys the machine fingerprint and the
	// state file, so two products on one machine never share either.
	// Required.
	AppID string

	// ServerURL is the control plane, e.g. "https://licensing.example.com":
	// scheme http or https, a host, and no query or fragment; anything
	// else fails Open with [ErrConfig]. Empty means offline mode: no
	// activation and no heartbeat; the licence is active while its key
	// verifies.
	ServerURL string
	// StateDir is where the grace state (and an activated key) lives,
	// created with mode 0700 if missing. Empty means a default that suits
	// both desktop programs and daemons (see [DefaultStateDir]): on Linux,
	// $STATE_DIRECTORY when systemd sets it, else /var/lib/<AppID> for
	// root or a process without $HOME; elsewhere, and for other users,
	// <os.UserConfigDir()>/<AppID>. A directory every user may write to
	// (o+w, such as /tmp) is refused with [ErrConfig].
	StateDir string
	// OfflineActivation is for an air-gapped product (no ServerURL): it
	// must be activated with an offline response ([Manager.OfflineRequest],
	// [Manager.ImportOffline]) and is [StateInactive] until one is
	// imported; then active until the offline lease's exp, and locked
	// after it, under every clock rule of an online product. Without it,
	// an offline product runs on its key alone — unless a response was
	// imported, whose lease then rules in the same way.
	OfflineActivation bool
	// OfflineResponse is the path of an offline activation response to
	// import at Open (see [Manager.ImportOffline]); setting it implies
	// OfflineActivation. A missing file is not an error; one that cannot
	// be imported leaves the manager as it was, and Status says why. Once
	// imported the lease lives in the state, so keeping the file in place
	// across restarts changes nothing.
	OfflineResponse string

	// ActivatedKeyFile is where a key installed with [Manager.Activate] is
	// kept so that it survives a restart (written atomically, mode 0600).
	// Empty means a file in StateDir whose name is derived from AppID.
	ActivatedKeyFile string

	// Issuer and Audience, when set, are required of every licence token
	// (see [WithIssuer], [WithAudience]); Issuer also of every lease.
	Issuer, Audience string
	// Leeway is the tolerated clock skew on a licence's dates; zero means
	// [DefaultLeeway].
	Leeway time.Duration

	// MaxGrace, when positive, shortens the offline grace window: use ends
	// MaxGrace after the newest lease was received if that comes before the
	// lease's own exp. It can never lengthen it. The environment variable
	// [EnvGrace] can shorten it further.
	MaxGrace time.Duration
	// ClockTolerance is how far the wall clock may go back below its
	// high-water mark before the licence locks (ErrClockTampered). Zero
	// means one hour.
	ClockTolerance time.Duration

	// ActivationOptional lets an online product run on a valid key before
	// this machine's first activation succeeds (for example while it
	// installs without a network). The default is to require activation:
	// [StateInactive] until the control plane has bound the licence here.
	// Be aware of what it gives away: without a lease, nothing but the
	// licence's own exp limits use, so a product that deletes its state
	// file and stays offline keeps running. Leave it off unless the
	// licence's exp is the limit you mean.
	ActivationOptional bool

	// MachineID pins the machine identity for containers and clusters (a
	// pod's stable name, say). It is keyed with AppID before use and never
	// sent. Empty means the environment variable LICENSEKIT_MACHINE_ID, or
	// the operating system's machine id.
	MachineID string
	// ExactMachineMatch makes a lease match this machine only when every
	// fingerprint component is unchanged. The default tolerates one
	// changed component besides the machine id (a NIC or RAM swap); see
	// package fingerprint.
	ExactMachineMatch bool

	// HTTPClient sends control-plane requests; nil means a client with sane
	// timeouts that does not follow redirects.
	HTTPClient *http.Client
	// Logger receives the manager's records; nil is silent. Tokens and
	// secrets are never logged whole.
	Logger *slog.Logger
	// OnChange is called after every change of State (not on every
	// heartbeat), with the new status. It is called on a goroutine of the
	// manager's own, one call at a time, and always with the newest
	// status: after a burst of changes the last call carries the current
	// state. It may call Status and Require; it must not block for long,
	// and must not call [Manager.Close], which waits for it.
	OnChange func(Status)

	// Now is the wall clock; nil means time.Now. Tests inject a clock that
	// jumps back to exercise tamper detection.
	Now func() time.Time

	// fpOptions are extra options for fingerprint.Compute, for the
	// package's own tests (a machine without a machine id).
	fpOptions []fingerprint.Option
}

// maxGrace returns the effective grace cap: the smaller positive value of
// the config and the environment, or 0 for none.
func (c *Config) maxGrace() time.Duration {
	g := c.MaxGrace
	if s := os.Getenv(EnvGrace); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 && (g <= 0 || d < g) {
			g = d
		}
	}
	if g < 0 {
		g = 0
	}
	return g
}

// checkServerURL refuses a ServerURL the heartbeat client could never
// use, so that Open fails instead of a manager sitting in inactive with
// the cause in LastError.
func checkServerURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fail(ErrConfig, "Config.ServerURL "+quote(s)+" is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return fail(ErrConfig, "Config.ServerURL "+quote(s)+" must start with https:// (or http://), e.g. https://licensing.example.com")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return fail(ErrConfig, "Config.ServerURL "+quote(s)+" has no host")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		return fail(ErrConfig, "Config.ServerURL "+quote(s)+" must have no query or fragment")
	}
	return nil
}
