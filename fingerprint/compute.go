package fingerprint

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// keyLabel separates this package's keys from any other use of the machine id.
const keyLabel = "licensekit/fingerprint/v1\x00"

// maxMemo bounds the fingerprints a collector keeps; beyond it the memo is
// emptied, so a process that computes for many app ids stays small.
const maxMemo = 16

// Compute returns the fingerprint of this machine for appID.
//
// The first call in a process reads the machine (well under a millisecond on
// Linux, no process started) and caches what it read; later calls with the
// same app id and override return the cached result in about a hundred
// nanoseconds. [WithRefresh] re-reads. [WithSources] reads the given sources
// instead and caches nothing.
//
// It fails with [ErrAppID] for an empty appID, with [ErrNoMachineID] when no
// machine id can be read and none is given ([WithMachineID], [EnvMachineID]),
// with [ErrOverride] for an override over 1024 bytes, and with ctx's error
// when ctx is done. Hardware facts that cannot be read only make the
// fingerprint smaller. Compute is safe for concurrent use.
func Compute(ctx context.Context, appID string, opts ...Option) (Fingerprint, error) {
	if appID == "" {
		return Fingerprint{}, ErrAppID
	}
	var cfg config
	if len(opts) > 0 {
		cfg = newConfig(opts) // kept out of line so cfg stays on the stack
	}
	if err := ctx.Err(); err != nil {
		return Fingerprint{}, fmt.Errorf("fingerprint: %w", err)
	}
	if cfg.sources != nil {
		c := collector{src: *cfg.sources}
		return c.compute(ctx, appID, &cfg)
	}
	return process.compute(ctx, appID, &cfg)
}

func newConfig(opts []Option) config {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return cfg
}

// process is the one piece of package-level state: a cache of what Compute
// read from [SystemSources]. It holds facts about the machine the process runs
// on, which are the same for every caller, never configuration; it changes
// only when a call passes [WithRefresh], and it is guarded by its mutex.
var process = collector{src: systemSources()}

// collector reads sources once and memoises the derived fingerprints.
type collector struct {
	src Sources

	mu    sync.Mutex
	facts *facts
	memo  map[memoKey]Fingerprint
}

type memoKey struct{ appID, override string }

func (c *collector) compute(ctx context.Context, appID string, cfg *config) (Fingerprint, error) {
	override := strings.TrimSpace(cfg.override)
	if override == "" && c.src.Getenv != nil {
		override = strings.TrimSpace(c.src.Getenv(EnvMachineID))
	}
	if len(override) > maxOverride {
		return Fingerprint{}, ErrOverride
	}
	key := memoKey{appID, override}

	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg.refresh {
		c.facts = nil
		clear(c.memo)
	}
	fp, ok := c.memo[key]
	if !ok {
		var err error
		if fp, err = c.derive(ctx, key); err != nil {
			return Fingerprint{}, err
		}
		if c.memo == nil {
			c.memo = make(map[memoKey]Fingerprint)
		} else if len(c.memo) >= maxMemo {
			clear(c.memo)
		}
		c.memo[key] = fp
	}
	fp.exact = cfg.exact
	return fp, nil
}

// derive reads what is missing (under c.mu) and derives the fingerprint.
// Reads cut short by ctx are not cached.
func (c *collector) derive(ctx context.Context, key memoKey) (Fingerprint, error) {
	if c.facts == nil {
		f := collect(ctx, &c.src)
		if err := ctx.Err(); err != nil {
			return Fingerprint{}, fmt.Errorf("fingerprint: %w", err)
		}
		c.facts = f
	}
	secret := key.override
	if secret == "" {
		c.facts.readMachineID(ctx, &c.src)
		if err := ctx.Err(); err != nil {
			c.facts.machineRead, c.facts.machineID, c.facts.machineErr = false, "", nil
			return Fingerprint{}, fmt.Errorf("fingerprint: %w", err)
		}
		if c.facts.machineErr != nil {
			return Fingerprint{}, c.facts.machineErr
		}
		secret = c.facts.machineID
	}
	return derive(secret, key.appID, &c.facts.values), nil
}

// derive computes the fingerprint from the machine secret (machine id or
// override), the app id and the canonical component values.
//
//	k        = HMAC-SHA256(secret, keyLabel || appID)   per app, never leaves memory
//	machine  = HMAC-SHA256(k, "machine")[:15]
//	c        = HMAC-SHA256(k, name || 0 || value)[:8]  for each other component
//	hash     = hex(HMAC-SHA256(k, "machine-hash"))      MachineHash, not on the wire
//
// Keying every component with k means nobody without the machine id can test
// guesses (a MAC, a CPU model) against a fingerprint, and two app ids on one
// machine share nothing.
func derive(secret, appID string, values *[numComponents]string) Fingerprint {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(keyLabel))
	m.Write([]byte(appID))
	h := hmac.New(sha256.New, m.Sum(nil))
	var sum [sha256.Size]byte
	mac := func(parts ...string) []byte {
		h.Reset()
		for _, p := range parts {
			h.Write([]byte(p))
		}
		return h.Sum(sum[:0])
	}

	var fp Fingerprint
	fp.b.set(0, mac("machine"))
	for i := 1; i < numComponents; i++ {
		if v := values[i]; v != "" {
			fp.b.set(i, mac(string(components[i]), "\x00", v))
		}
	}
	fp.machineHash = hex.EncodeToString(mac("machine-hash"))
	fp.s = fp.b.String()
	return fp
}
