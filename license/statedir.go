package license

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// EnvStateDirectory is the variable systemd sets for a unit with
// StateDirectory=: the directory it made for the service's state.
const EnvStateDirectory = "STATE_DIRECTORY"

// DefaultStateDir returns the state directory [Open] uses when
// Config.StateDir is empty:
//
//   - on Linux, $STATE_DIRECTORY when systemd sets it (a unit with
//     StateDirectory=; the first entry if it lists several);
//   - on Linux, for root or a process without $HOME (a daemon), /var/lib/<appID>;
//   - otherwise <os.UserConfigDir()>/<appID>, for example
//     ~/.config/<appID> on Linux and ~/Library/Application Support/<appID>
//     on macOS.
//
// appID must be usable as one path element (no separator, not "." or
// ".."). The error wraps [ErrConfig] and names Config.StateDir.
func DefaultStateDir(appID string) (string, error) {
	return defaultStateDir(appID, stateDirEnv{
		goos:      runtime.GOOS,
		getenv:    os.Getenv,
		euid:      os.Geteuid(),
		configDir: os.UserConfigDir,
	})
}

// stateDirEnv is what the default depends on, so tests can vary it.
type stateDirEnv struct {
	goos      string
	getenv    func(string) string
	euid      int
	configDir func() (string, error)
}

func defaultStateDir(appID string, env stateDirEnv) (string, error) {
	if appID == "" || appID == "." || appID == ".." || strings.ContainsAny(appID, `/\:`+"\x00") || strings.TrimSpace(appID) != appID {
		return "", fail(ErrConfig, "AppID "+quote(appID)+" cannot name a state directory; set Config.StateDir")
	}
	if env.goos == "linux" {
		if d := env.getenv(EnvStateDirectory); d != "" {
			first, _, _ := strings.Cut(d, ":")
			if filepath.IsAbs(first) {
				return filepath.Clean(first), nil
			}
		}
		if env.euid == 0 || env.getenv("HOME") == "" {
			return filepath.Join("/var/lib", appID), nil
		}
	}
	base, err := env.configDir()
	if err != nil {
		return "", failWith(ErrConfig, "no default state directory ("+err.Error()+"); set Config.StateDir", err)
	}
	return filepath.Join(base, appID), nil
}

// prepareStateDir resolves and creates the state directory. The error
// wraps ErrConfig and names Config.StateDir.
func prepareStateDir(cfg *Config) (string, error) {
	dir := cfg.StateDir
	what := "Config.StateDir " + quotePath(dir)
	if dir == "" {
		d, err := DefaultStateDir(cfg.AppID)
		if err != nil {
			return "", err
		}
		dir = d
		what = "the default state directory " + quotePath(dir) + " (set Config.StateDir to choose another)"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", failWith(ErrConfig, what+" is not usable: "+err.Error(), err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fail(ErrConfig, what+" is not a directory")
	}
	return dir, nil
}

// quotePath quotes a path from the configuration in full.
func quotePath(p string) string { return strconv.Quote(p) }
