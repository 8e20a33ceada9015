package controlplane

import (
	"log/slog"
	"time"
)

// Defaults of the settings a Config or the stored settings may change.
const (
	DefaultGrace             = 336 * time.Hour // 14 days: how long a lease lets a machine run offline
	DefaultHeartbeatInterval = time.Hour
	DefaultOfflineLeaseTTL   = 365 * 24 * time.Hour
	DefaultTTL               = 365 * 24 * time.Hour // a licence of no plan, or of plan custom
	DefaultFlushInterval     = time.Second
)

// Config configures a [Server]. Only Store and Issuer are required; every
// other zero value does the safe, documented thing.
type Config struct {
	// Store keeps the state. Required. The Server does not close it.
	Store Store
	// Issuer is the iss claim of every licence token, e.g. "acme". Required.
	Issuer string

	// Grace and HeartbeatInterval, when set, win over the stored settings
	// (they are the --grace and --heartbeat-interval flags). Zero follows
	// the stored settings, or DefaultGrace and DefaultHeartbeatInterval.
	// A licence's own directives win over both.
	Grace             time.Duration
	HeartbeatInterval time.Duration

	// SecretKey is the server's 32-byte secret (see [LoadOrCreateSecretKey]).
	// Separate keys derived from it seal the private signing keys
	// (AES-256-GCM) and hash API-key secrets (HMAC-SHA256). Nil draws a
	// random key for this process only: fine over an in-memory store, but
	// a persistent store then cannot open the signing keys it sealed before
	// (New fails with [ErrSecretKey]) nor check its API keys.
	SecretKey []byte

	// AdminKey is the secret of the bootstrap super_admin API key, which
	// belongs to no tenant (LICENSEKIT_ADMIN_KEY): any text of 16 to 256
	// visible ASCII characters. Empty: if no bootstrap key was ever made,
	// New makes one and [Server.BootstrapSecret] tells its secret once.
	AdminKey Secret

	// Clock is the server's time; nil means time.Now.
	Clock func() time.Time
	// Logger receives the server's logs; nil is silent. Nothing logged
	// carries a secret or a whole token.
	Logger *slog.Logger

	// DeviceRateLimit limits device calls per licence and AdminRateLimit
	// admin calls per API key. The zero value is the default; a zero
	// PerSecond with a Burst is the default rate with that burst; a
	// negative PerSecond turns the limit off.
	DeviceRateLimit RateLimit
	AdminRateLimit  RateLimit
	// AuthFailureLimit limits failed authentications per client address:
	// a bearer secret the API refuses, or a refused secret at the
	// console's sign-in. Only failures spend it; once it is spent, every
	// attempt from that address, good secret or bad, is 429 until a token
	// is back, so online guessing of a weak LICENSEKIT_ADMIN_KEY is slow.
	// The address is the connection's (an IPv6 address counts by its /64);
	// behind a reverse proxy every client shares the proxy's, so raise or
	// turn off the limit there. Zero is DefaultAuthFailureLimit; negative
	// PerSecond turns it off.
	AuthFailureLimit RateLimit

	// Observer, when set, hears of every request (route, status, duration),
	// e.g. to export metrics.
	Observer Observer

	// LicenseCacheTTL, when positive, lets heartbeats reuse a licence read
	// from the store for up to this long instead of reading it on every
	// beat. Every change this Server makes to a licence, and every sweep,
	// drops the cached copy before it is answered, so one server process
	// may set it long (an hour: a machine beats about once an interval).
	// With several processes on one database a change made by another
	// process reaches this one's heartbeats only when the copy expires:
	// keep it to seconds there, or zero. Zero, the default, reads the
	// store on every beat.
	LicenseCacheTTL time.Duration

	// FlushInterval is how long heartbeat bookkeeping may wait before it
	// is written to the store; zero means DefaultFlushInterval (one second).
	// State changes are never written behind. A negative FlushInterval is
	// write-through: each heartbeat's bookkeeping is written before it is
	// answered, and the Server starts no goroutine at all — for tests
	// (license/licensetest runs a Server inside a testing/synctest bubble
	// this way) and for stores where a write per beat is cheap.
	FlushInterval time.Duration
}

// RateLimit is a token bucket: PerSecond requests a second on average,
// bursts of Burst.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Default rate limits. A deployed machine beats once an hour; retries
// after a failure are a few a minute, so ten a second per licence leaves
// room for a fleet behind one licence and stops a loop gone wild.
var (
	DefaultDeviceRateLimit = RateLimit{PerSecond: 10, Burst: 40}
	DefaultAdminRateLimit  = RateLimit{PerSecond: 50, Burst: 200}
	// DefaultAuthFailureLimit allows 20 failed sign-ins in a row, then one
	// every 5 seconds: a person mistyping is never stopped, a guesser
	// gets 17,280 tries a day per address rather than thousands a second.
	DefaultAuthFailureLimit = RateLimit{PerSecond: 0.2, Burst: 20}
)

// Observer hears of every request the Server answers. Route is the route
// table's pattern ("POST /licenses/{id}/heartbeat"), or "unmatched".
// Implementations must be safe for concurrent use and return quickly.
type Observer interface {
	ObserveRequest(route string, status int, duration time.Duration)
}
