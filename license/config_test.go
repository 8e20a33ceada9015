package license_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// offlineConfig is a valid offline configuration with a temporary state
// directory.
func offlineConfig(t *testing.T) license.Config {
	iss := licensetest.NewIssuer(t)
	return license.Config{Keys: iss.Keyring(), AppID: "acme-appliance", StateDir: t.TempDir(), MachineID: "machine-A"}
}

func TestOpenRefusesUnusableServerURL(t *testing.T) {
	for _, u := range []string{
		"licensing.example.com", // no scheme
		"ftp://x",               // wrong scheme
		"https://",              // no host
		"http:///licenses",      // no host
		"https://licensing.example.com?x=1",
		"https://licensing.example.com?",
		"https://licensing.example.com#top",
		"https://licensing.example.com#",
		"mailto:ops@example.com",
		"https://[::1",
		" https://licensing.example.com",
	} {
		cfg := offlineConfig(t)
		cfg.ServerURL = u
		m, err := license.Open(context.Background(), cfg)
		if err == nil {
			m.Close()
			t.Errorf("Open accepted ServerURL %q", u)
			continue
		}
		if !errors.Is(err, license.ErrConfig) || license.Code(err) != license.CodeConfig {
			t.Errorf("ServerURL %q: %v, want ErrConfig", u, err)
		}
		if !strings.Contains(err.Error(), "Config.ServerURL") {
			t.Errorf("ServerURL %q: the error does not name the field: %v", u, err)
		}
	}
	for _, u := range []string{"https://licensing.example.com", "http://127.0.0.1:8000", "https://example.com/licensing/"} {
		cfg := offlineConfig(t)
		cfg.ServerURL = u
		m, err := license.Open(context.Background(), cfg)
		if err != nil {
			t.Errorf("ServerURL %q: %v", u, err)
			continue
		}
		m.Close()
	}
}

func TestOpenNamesTheFieldToFix(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*license.Config)
	}{
		{"no keys", "Config.Keys", func(c *license.Config) { c.Keys = nil }},
		{"no app id", "Config.AppID", func(c *license.Config) { c.AppID = "" }},
		{"state dir is a file", "Config.StateDir", func(c *license.Config) { c.StateDir = file }},
		{"state dir under a file", "Config.StateDir", func(c *license.Config) { c.StateDir = filepath.Join(file, "state") }},
		{"app id cannot name the default directory", "Config.StateDir", func(c *license.Config) { c.StateDir, c.AppID = "", "../etc" }},
	} {
		cfg := offlineConfig(t)
		tc.edit(&cfg)
		m, err := license.Open(context.Background(), cfg)
		if err == nil {
			m.Close()
			t.Errorf("%s: Open succeeded", tc.name)
			continue
		}
		if license.Code(err) != license.CodeConfig || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v, want a CONFIG error naming %s", tc.name, err, tc.field)
		}
	}
}

func TestSentinelCodes(t *testing.T) {
	sentinels := map[*license.Error]string{
		license.ErrMalformed:        license.CodeMalformed,
		license.ErrAlgorithm:        license.CodeAlgorithm,
		license.ErrUnknownKey:       license.CodeUnknownKey,
		license.ErrSignature:        license.CodeSignature,
		license.ErrExpired:          license.CodeExpired,
		license.ErrNotYetValid:      license.CodeNotYetValid,
		license.ErrClaims:           license.CodeClaims,
		license.ErrFingerprint:      license.CodeFingerprint,
		license.ErrKeyFile:          license.CodeKeyFile,
		license.ErrRevoked:          license.CodeRevoked,
		license.ErrSuspended:        license.CodeSuspended,
		license.ErrGraceExpired:     license.CodeGraceExpired,
		license.ErrClockTampered:    license.CodeClockTampered,
		license.ErrNotActivated:     license.CodeNotActivated,
		license.ErrCapability:       license.CodeCapability,
		license.ErrUnlicensed:       license.CodeUnlicensed,
		license.ErrConfig:           license.CodeConfig,
		license.ErrAlreadyActivated: license.CodeAlreadyActivated,
		license.ErrUnavailable:      license.CodeUnavailable,
		license.ErrClosed:           license.CodeClosed,
	}
	seen := map[string]*license.Error{}
	for e, want := range sentinels {
		code := license.Code(e)
		if code == "" || code != want || e.Code() != want {
			t.Errorf("%v: code %q, want %q", e, code, want)
		}
		if prev, ok := seen[code]; ok {
			t.Errorf("%v and %v share code %q", prev, e, code)
		}
		seen[code] = e
		if !strings.HasPrefix(e.Error(), "license: ") {
			t.Errorf("%q does not start with the package name", e.Error())
		}
	}
	// The codes of the contract, spelled out once more.
	for code, e := range map[string]error{
		"MALFORMED": license.ErrMalformed, "BAD_ALGORITHM": license.ErrAlgorithm, "UNKNOWN_KEY": license.ErrUnknownKey,
		"INVALID_SIGNATURE": license.ErrSignature, "EXPIRED": license.ErrExpired, "NOT_YET_VALID": license.ErrNotYetValid,
		"INVALID_CLAIMS": license.ErrClaims, "FINGERPRINT_MISMATCH": license.ErrFingerprint, "INVALID_KEY_FILE": license.ErrKeyFile,
		"REVOKED": license.ErrRevoked, "SUSPENDED": license.ErrSuspended, "GRACE_EXPIRED": license.ErrGraceExpired,
		"CLOCK_TAMPERED": license.ErrClockTampered, "NOT_ACTIVATED": license.ErrNotActivated, "CONFIG": license.ErrConfig,
	} {
		if got := license.Code(e); got != code {
			t.Errorf("Code(%v) = %q, want %q", e, got, code)
		}
	}
	// Wrapped, as the manager returns them.
	cfg := offlineConfig(t)
	cfg.AppID = ""
	if _, err := license.Open(context.Background(), cfg); license.Code(err) != "CONFIG" {
		t.Errorf("Code(Open error) = %q, want CONFIG", license.Code(err))
	}
}
