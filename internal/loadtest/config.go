package loadtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensekit/licensekit/internal/serverapp"
)

// Config says how much load to make. Zero fields take the defaults.
type Config struct {
	Licences int           // licences issued and activated, one machine each (default 200)
	Clients  int           // concurrent clients beating (default 64)
	Duration time.Duration // how long each measured run lasts (default 10 s)
	// Warmup is beaten before each measured run and not counted
	// (default 1 s; negative for none).
	Warmup time.Duration
	// CPUProfile, when set, is written with a CPU profile of the control
	// plane's measured run (the clients run in the same process and show
	// in it too).
	CPUProfile string
	// LicenseCache is the server's --license-cache; negative is off
	// (default: the server's default, serverapp.DefaultLicenseCache on
	// SQLite, off on PostgreSQL).
	LicenseCache time.Duration
	// Dir holds the SQLite database, or the secret key file of the
	// servers on PostgreSQL; "" is a temporary directory removed at the
	// end.
	Dir string
	// DB, when a postgres:// URL, runs the control plane on PostgreSQL:
	// the run creates a database of its own on that server (its user must
	// be allowed to) and drops it at the end. Empty: SQLite in Dir.
	DB string
	// Servers is how many control planes serve the PostgreSQL database,
	// each with its own store and listener, the clients spread over them
	// (1 or 2; default 1). With 2 the run measures one server, then both.
	Servers int
}

// Defaults of Config.
const (
	DefaultLicences = 200
	DefaultClients  = 64
	DefaultDuration = 10 * time.Second
	DefaultWarmup   = time.Second
)

// ErrConfig: a Config that cannot run.
var ErrConfig = errors.New("loadtest: invalid configuration")

func (c Config) withDefaults() (Config, error) {
	if c.Licences == 0 {
		c.Licences = DefaultLicences
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Warmup == 0 {
		c.Warmup = DefaultWarmup
	}
	if c.Servers == 0 {
		c.Servers = 1
	}
	if c.LicenseCache == 0 && !serverapp.IsPostgres(c.DB) {
		c.LicenseCache = serverapp.DefaultLicenseCache
	}
	if c.LicenseCache < 0 {
		c.LicenseCache = 0
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	switch {
	case c.Licences < 1 || c.Licences > 100000:
		return c, errors.Join(ErrConfig, errors.New("licences must be 1 to 100000"))
	case c.Clients < 1 || c.Clients > 4096:
		return c, errors.Join(ErrConfig, errors.New("clients must be 1 to 4096"))
	case c.Duration < 0 || c.Duration > time.Hour:
		return c, errors.Join(ErrConfig, errors.New("duration must be positive and at most 1h"))
	case c.DB != "" && !serverapp.IsPostgres(c.DB):
		return c, errors.Join(ErrConfig, errors.New("db must be a postgres:// URL (empty: SQLite)"))
	case c.Servers < 1 || c.Servers > 2:
		return c, errors.Join(ErrConfig, errors.New("servers must be 1 or 2"))
	case c.Servers > 1 && c.DB == "":
		return c, errors.Join(ErrConfig, errors.New("two servers need a PostgreSQL db"))
	case c.DB != "" && c.LicenseCache > serverapp.MaxSharedLicenseCache:
		return c, errors.Join(ErrConfig, fmt.Errorf("license cache at most %s on PostgreSQL", serverapp.MaxSharedLicenseCache))
	}
	return c, nil
}
