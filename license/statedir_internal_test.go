package license

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/fingerprint"
)

func TestDefaultStateDirTable(t *testing.T) {
	noConfigDir := func() (string, error) { return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME are defined") }
	userConfigDir := func() (string, error) { return "/home/ana/.config", nil }
	for _, tc := range []struct {
		name      string
		goos      string
		env       map[string]string
		euid      int
		configDir func() (string, error)
		want      string
		wantErr   bool
	}{
		{"linux user", "linux", map[string]string{"HOME": "/home/ana"}, 1000, userConfigDir, "/home/ana/.config/acme", false},
		{"linux root", "linux", map[string]string{"HOME": "/root"}, 0, userConfigDir, "/var/lib/acme", false},
		{"linux daemon without HOME", "linux", nil, 998, noConfigDir, "/var/lib/acme", false},
		{"systemd StateDirectory=", "linux", map[string]string{"STATE_DIRECTORY": "/var/lib/acme-appliance", "HOME": "/"}, 998, userConfigDir, "/var/lib/acme-appliance", false},
		{"systemd, several directories", "linux", map[string]string{"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}, 0, userConfigDir, "/var/lib/a", false},
		{"relative STATE_DIRECTORY ignored", "linux", map[string]string{"STATE_DIRECTORY": "state", "HOME": "/home/ana"}, 1000, userConfigDir, "/home/ana/.config/acme", false},
		{"macOS user", "darwin", map[string]string{"HOME": "/Users/ana"}, 501, func() (string, error) { return "/Users/ana/Library/Application Support", nil }, "/Users/ana/Library/Application Support/acme", false},
		{"macOS root ignores STATE_DIRECTORY", "darwin", map[string]string{"STATE_DIRECTORY": "/x"}, 0, func() (string, error) { return "/var/root/Library/Application Support", nil }, "/var/root/Library/Application Support/acme", false},
		{"no config dir", "darwin", nil, 501, noConfigDir, "", true},
	} {
		got, err := defaultStateDir("acme", stateDirEnv{
			goos:      tc.goos,
			getenv:    func(k string) string { return tc.env[k] },
			euid:      tc.euid,
			configDir: tc.configDir,
		})
		if tc.wantErr {
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "Config.StateDir") {
				t.Errorf("%s: %q, %v; want an ErrConfig naming Config.StateDir", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", `a\b`, "a\x00b", " acme"} {
		if _, err := defaultStateDir(id, stateDirEnv{goos: "linux", getenv: func(string) string { return "" }, configDir: userConfigDir}); !errors.Is(err, ErrConfig) {
			t.Errorf("AppID %q: %v, want ErrConfig", id, err)
		}
	}
}

// On a machine without a machine id (many CI containers), Open's error
// names the license package's remedies, not fingerprint's option.
func TestOpenWithoutMachineIDNamesConfig(t *testing.T) {
	t.Setenv(fingerprint.EnvMachineID, "")
	noID := fingerprint.WithSources(fingerprint.Sources{
		MachineID: func(context.Context) (string, error) {
			return "", errors.New("open /etc/machine-id: no such file or directory")
		},
		Getenv: func(string) string { return "" },
	})
	keys := &Keyring{keys: []*pubKey{{kid: "k1", alg: EdDSA}}}
	_, err := Open(context.Background(), Config{Keys: keys, AppID: "acme", StateDir: t.TempDir(), fpOptions: []fingerprint.Option{noID}})
	if err == nil {
		t.Fatal("Open succeeded without a machine id")
	}
	msg := err.Error()
	for _, want := range []string{"Config.MachineID", "LICENSEKIT_MACHINE_ID", "/etc/machine-id"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not mention %s: %s", want, msg)
		}
	}
	if strings.Contains(msg, "WithMachineID") {
		t.Errorf("the error names fingerprint's option: %s", msg)
	}
	if !errors.Is(err, ErrConfig) || !errors.Is(err, fingerprint.ErrNoMachineID) {
		t.Errorf("the error matches neither ErrConfig nor fingerprint.ErrNoMachineID: %v", err)
	}
}
