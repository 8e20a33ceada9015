package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// walk holds what the scenes share.
type walk struct {
	w      io.Writer
	cfg    license.Config
	cp     *licensetest.ControlPlane
	lic    string
	offset atomic.Int64 // how far the product's clock is set from the real one
}

// run narrates the walk-through to w.
func run(ctx context.Context, w io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	dir, err := os.MkdirTemp("", "licensekit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	k := &walk{w: w}
	k.say("1. The vendor has a signing key and mints a licence for a customer.")
	// Outside a test, licensetest reports through a Standalone: a failure
	// panics, and the recover above turns it into an error.
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme"))
	keyFile := filepath.Join(dir, "license.json")
	if err := os.WriteFile(keyFile, iss.KeyFile(licensetest.Tokens(
		licensetest.AudienceString("Example Clinic"),
		licensetest.Capabilities("reports:read", "reports:export"),
		licensetest.IssuedAt(time.Now().Add(-30*24*time.Hour)), // bought a month ago
		licensetest.ExpiresIn(365*24*time.Hour),
	)), 0o600); err != nil {
		return err
	}
	lic, err := iss.Verifier(license.WithIssuer("acme")).VerifyKeyFile(mustLoad(keyFile))
	if err != nil {
		return err
	}
	k.lic = lic.ID
	k.say("   key file %s: licence %s for %v, capabilities %v, expires %s",
		filepath.Base(keyFile), lic.ID, lic.Audience, lic.Capabilities, lic.ExpiresAt.Format("2006-01-02"))

	k.say("2. The vendor's control plane runs (here on loopback).")
	k.cp = licensetest.NewControlPlane(iss)
	srv := httptest.NewServer(k.cp)
	defer srv.Close()
	k.say("   %s", srv.URL)

	k.cfg = license.Config{
		Keys:      iss.Keyring(), // a real product embeds these with //go:embed
		KeyFile:   keyFile,
		AppID:     "quickstart-app",
		ServerURL: srv.URL,
		StateDir:  filepath.Join(dir, "state"),
		Issuer:    "acme",
		// A fixed machine identity, so the walk-through runs anywhere
		// (containers often have no machine id). Products leave it empty
		// or set LICENSEKIT_MACHINE_ID to a pod's stable identity.
		MachineID: "quickstart-machine",
		Now:       func() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) },
	}
	return k.scenes(ctx)
}

// scene is one step of the walk: it narrates, changes the world, and
// restarts the product, which must reach want.
type scene struct {
	say  string // narration; "" continues the previous scene
	act  func()
	want license.State
	then func(*license.Manager) // optional, run while the product is up
}

func (k *walk) scenes(ctx context.Context) error {
	for _, sc := range []scene{
		{"3. The product starts: it activates the licence on this machine and stores a signed lease.",
			func() {}, license.StateActive, func(m *license.Manager) {
				k.say("   Require(%q) = %v", "reports:export", errString(m.Require("reports:export")))
				k.say("   Require(%q) = %v", "admin", errString(m.Require("admin")))
			}},
		{"4. The network goes down. The product runs on its lease's offline grace.",
			func() { k.cp.SetDown(true) }, license.StateGrace, func(m *license.Manager) {
				left := m.Status().GraceLeft(k.cfg.Now())
				k.say("   grace left: %.1f days, until %s", left.Hours()/24, m.Status().GraceDeadline.Format(time.RFC3339))
			}},
		{"5. Still offline, someone sets the clock back two days to stretch the grace.",
			func() { k.offset.Store(int64(-48 * time.Hour)) }, license.StateLocked, nil},
		{"   The clock is put right; the network comes back; the control plane vouches for the clock.",
			func() { k.offset.Store(0); k.cp.SetDown(false) }, license.StateActive, nil},
		{"6. The vendor suspends the subscription, then restores it.",
			func() { k.cp.Suspend(k.lic) }, license.StateSuspended, nil},
		{"", func() { k.cp.Restore(k.lic) }, license.StateActive, nil},
		{"7. The vendor revokes the licence. Unplugging the network does not help: it is on disk.",
			func() { k.cp.Revoke(k.lic) }, license.StateLocked, nil},
		{"", func() { k.cp.SetDown(true) }, license.StateLocked, nil},
	} {
		if sc.say != "" {
			k.say("%s", sc.say)
		}
		sc.act()
		if err := k.start(ctx, sc.want, sc.then); err != nil {
			return err
		}
	}
	return nil
}

// start opens the product's manager, waits until it reaches want (its
// first contact with the control plane happens at once), reports the
// state, runs then, and closes the manager again.
func (k *walk) start(ctx context.Context, want license.State, then func(*license.Manager)) error {
	m, err := license.Open(ctx, k.cfg)
	if err != nil {
		return err
	}
	defer m.Close()
	deadline := time.Now().Add(10 * time.Second)
	for m.Status().State != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := m.Status()
	line := "   → state: " + st.State.String()
	if st.Err != nil {
		line += " (" + license.Code(st.Err) + ")"
	}
	k.say("%s", line)
	if st.State != want {
		return fmt.Errorf("state %v (%v), want %v", st.State, st.Err, want)
	}
	if then != nil {
		then(m)
	}
	return nil
}

func (k *walk) say(format string, args ...any) { fmt.Fprintf(k.w, format+"\n", args...) }

func mustLoad(path string) *license.KeyFile {
	kf, err := license.LoadKeyFile(path)
	if err != nil {
		panic(err)
	}
	return kf
}

func errString(err error) string {
	if err == nil {
		return "nil (allowed)"
	}
	if code := license.Code(err); code != "" {
		return code
	}
	return err.Error()
}
