package serverapp

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

// EnvAdminKey names the environment variable that sets the secret of the
// bootstrap super_admin API key.
const EnvAdminKey = "LICENSEKIT_ADMIN_KEY"

// Defaults of the flags.
const (
	DefaultAddr            = ":8000"
	DefaultDB              = "licensekit.db"
	DefaultIssuer          = "licensekit"
	DefaultShutdownTimeout = 15 * time.Second
	DefaultLicenseCache    = 2 * time.Hour // longer than the default heartbeat interval, so the next beat finds its licence
	// SecretKeySuffix is added to the database's path to name the secret
	// key file when --secret-key-file is not given.
	SecretKeySuffix = ".secret"
)

// Options is what the command line and the environment ask for. [Parse]
// fills it; tests and the load generator may build one directly. The
// fields below Logger have no flag.
type Options struct {
	Addr string // --addr: host:port of the API
	// DB is --db: a SQLite file path, or a postgres:// URL (see
	// [IsPostgres]) for a database several servers may share.
	DB string

	// Grace and HeartbeatInterval are --grace and --heartbeat-interval.
	// Zero (the flag not given) follows the stored settings, whose
	// defaults are 336h and 1h; a value given wins over them.
	Grace             time.Duration
	HeartbeatInterval time.Duration

	Issuer string // --issuer: the iss claim of every licence token
	// SecretKeyFile is --secret-key-file; "" means DB + SecretKeySuffix
	// for SQLite. On PostgreSQL it is required: there is no database file
	// to sit beside, and every server of one database must use the same
	// file.
	SecretKeyFile string
	TLSCert       string // --tls-cert, with TLSKey: serve HTTPS
	TLSKey        string // --tls-key
	MetricsAddr   string // --metrics-addr: host:port of /metrics; "" is off
	LogFormat     string // --log-format: "text" (default) or "json"

	// ShutdownTimeout (--shutdown-timeout) bounds the wait for requests in
	// flight at shutdown; zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// LicenseCache (--license-cache) is how long heartbeats may reuse a
	// licence read from the database; this server drops the copy at every
	// change it makes, so one process may keep it long. Zero is off. On
	// PostgreSQL, where other processes change licences too, it is at most
	// MaxSharedLicenseCache. Options built by hand get what they set;
	// Parse defaults it to DefaultLicenseCache on SQLite and to 0 on
	// PostgreSQL.
	LicenseCache time.Duration

	// AdminKey is LICENSEKIT_ADMIN_KEY: the bootstrap key's secret.
	AdminKey controlplane.Secret

	// Logger receives the logs; nil is silent. [Main] builds it from
	// LogFormat on stderr.
	Logger *slog.Logger
	// DeviceRateLimit and AdminRateLimit are the control plane's (zero:
	// its defaults; a negative PerSecond turns a limit off). The load
	// generator turns them off so that they do not become the figure
	// measured.
	DeviceRateLimit controlplane.RateLimit
	AdminRateLimit  controlplane.RateLimit
	// FlushInterval is how long heartbeat bookkeeping may wait in memory
	// (zero: the control plane's default, one second).
	FlushInterval time.Duration
}

// Parse reads the command line (without the program name) and the
// environment through getenv. Usage goes to out. -h gives flag.ErrHelp;
// anything that cannot work is an error wrapping [ErrUsage].
func Parse(args []string, getenv func(string) string, out io.Writer) (Options, error) {
	o := Options{}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Main prints the error once; usage only on -h
	fs.Usage = func() {}
	usage := func() {
		fs.SetOutput(out)
		fmt.Fprintf(out, "Usage: server [flags]\n\nThe licensekit control plane over a SQLite file or a PostgreSQL database.\n"+
			"Environment: %s sets the secret of the bootstrap super_admin API key\n"+
			"(otherwise one is generated on first start and printed once).\n\nFlags:\n", EnvAdminKey)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Addr, "addr", DefaultAddr, "`host:port` the API listens on")
	fs.StringVar(&o.DB, "db", DefaultDB, "the database: a SQLite `file`, or a postgres:// URL that several servers may share")
	grace := durationValue(controlplane.DefaultGrace)
	interval := durationValue(controlplane.DefaultHeartbeatInterval)
	fs.Var(&grace, "grace", "the `duration` a lease lets a machine run offline (336h or 14d); when given it wins over the stored setting")
	fs.Var(&interval, "heartbeat-interval", "the `duration` between two heartbeats of a machine; when given it wins over the stored setting")
	fs.StringVar(&o.Issuer, "issuer", DefaultIssuer, "the `iss` claim of every licence token (your products check it)")
	fs.StringVar(&o.SecretKeyFile, "secret-key-file", "", "the server's secret key `file` (default: the SQLite path + "+SecretKeySuffix+
		"; required with PostgreSQL, the same file on every server; created with mode 0600 on first start)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate `file`; with --tls-key the API serves HTTPS")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "`host:port` of Prometheus /metrics on a listener of its own (off when empty)")
	fs.StringVar(&o.LogFormat, "log-format", "text", "`format` of the logs on stderr: text or json")
	shutdown := durationValue(DefaultShutdownTimeout)
	fs.Var(&shutdown, "shutdown-timeout", "the `duration` shutdown waits for requests in flight")
	cache := zeroOrDuration{durationValue(DefaultLicenseCache)}
	fs.Var(&cache, "license-cache", "the `duration` heartbeats may reuse a licence read from the database (0: off; "+
		"on PostgreSQL the default is 0 and the most "+MaxSharedLicenseCache.String()+")")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			usage()
			return o, err
		}
		return o, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q (the server takes flags only)", ErrUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["grace"] {
		o.Grace = time.Duration(grace)
	}
	if set["heartbeat-interval"] {
		o.HeartbeatInterval = time.Duration(interval)
	}
	o.ShutdownTimeout = time.Duration(shutdown)
	o.LicenseCache = time.Duration(cache.durationValue)
	if IsPostgres(o.DB) && !set["license-cache"] {
		o.LicenseCache = 0 // other servers change licences too
	}
	o.AdminKey = controlplane.Secret(getenv(EnvAdminKey))
	if err := o.check(); err != nil {
		return o, err
	}
	return o, nil
}

// check refuses options that cannot work, before anything is opened.
func (o *Options) check() error {
	usage := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return usage("--addr %q: want host:port, e.g. :8000 or 127.0.0.1:8000", o.Addr)
	}
	if o.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(o.MetricsAddr); err != nil {
			return usage("--metrics-addr %q: want host:port, e.g. 127.0.0.1:9090", o.MetricsAddr)
		}
	}
	if err := checkDB(o.DB); err != nil {
		return err
	}
	if o.SecretKeyFile == "" {
		if IsPostgres(o.DB) {
			return usage("--secret-key-file is required with a PostgreSQL --db: every server of the database must use the same file")
		}
		o.SecretKeyFile = o.DB + SecretKeySuffix
	}
	if fi, err := os.Stat(o.SecretKeyFile); err == nil && fi.IsDir() {
		return usage("--secret-key-file %s is a directory", o.SecretKeyFile)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return usage("--tls-cert and --tls-key go together")
	}
	for _, p := range []struct{ flag, path string }{{"--tls-cert", o.TLSCert}, {"--tls-key", o.TLSKey}} {
		if p.path == "" {
			continue
		}
		if fi, err := os.Stat(p.path); err != nil || !fi.Mode().IsRegular() {
			return usage("%s %s: not a readable file", p.flag, p.path)
		}
	}
	switch o.LogFormat {
	case "text", "json":
	default:
		return usage("--log-format %q: want text or json", o.LogFormat)
	}
	if o.Grace < 0 || o.HeartbeatInterval < 0 || o.ShutdownTimeout < 0 || o.LicenseCache < 0 {
		return usage("durations must not be negative")
	}
	if IsPostgres(o.DB) && o.LicenseCache > MaxSharedLicenseCache {
		return usage("--license-cache %s: at most %s on PostgreSQL, where other servers change licences too", o.LicenseCache, MaxSharedLicenseCache)
	}
	// The control plane's bounds, checked here too so that a bad flag
	// touches no file.
	if o.Grace != 0 && (o.Grace < time.Hour || o.Grace > 3650*24*time.Hour) {
		return usage("--grace %s: want 1h to 3650d", o.Grace)
	}
	if o.HeartbeatInterval != 0 && (o.HeartbeatInterval < time.Minute || o.HeartbeatInterval > 30*24*time.Hour) {
		return usage("--heartbeat-interval %s: want 1m to 30d", o.HeartbeatInterval)
	}
	if !visibleASCII(o.Issuer, 1, 256) {
		return usage("--issuer %q: want 1 to 256 visible ASCII characters", o.Issuer)
	}
	if o.AdminKey != "" && !visibleASCII(string(o.AdminKey), 16, 256) {
		return usage("%s must be 16 to 256 visible ASCII characters", EnvAdminKey)
	}
	return nil
}

// checkDB accepts a postgres:// URL that parses, or a SQLite file path
// whose directory exists.
func checkDB(db string) error {
	switch {
	case db == "":
		return fmt.Errorf("%w: --db is empty", ErrUsage)
	case IsPostgres(db):
		return checkPostgresURL(db)
	case strings.Contains(db, "://"):
		return fmt.Errorf("%w: --db %q: want a SQLite file path or a postgres:// URL", ErrUsage, db)
	case db == ":memory:" || strings.HasPrefix(db, "file:") || strings.ContainsAny(db, "?#\x00"):
		return fmt.Errorf("%w: --db %q: want a plain file path (no ':memory:', 'file:', '?' or '#')", ErrUsage, db)
	}
	if fi, err := os.Stat(db); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: --db %s is a directory", ErrUsage, db)
	}
	dir := filepath.Dir(db)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = fs.ErrInvalid
		}
		return fmt.Errorf("%w: --db %s: its directory %s is not usable: %v", ErrUsage, db, dir, err)
	}
	return nil
}

func visibleASCII(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
