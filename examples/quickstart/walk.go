package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/licensekit/licensekit/license"
)

// sceneTimeout bounds how long a scene may take to reach its state. The
// product contacts the control plane as soon as it starts, so a scene
// takes milliseconds; the bound only turns a hang into a clear failure.
const sceneTimeout = 20 * time.Second

// walk holds what the scenes share.
type walk struct {
	w      io.Writer
	v      *vendor
	net    *network
	cfg    license.Config
	lic    *licenseJSON     // the licence as issued
	kf     *license.KeyFile // the key file as first downloaded
	kfIat  time.Time        // iat of its primary token
	offset atomic.Int64     // how far the product's clock is set from the real one
	last   license.Status   // the status the previous scene ended on
}

// run narrates the walk-through to w. Everything it makes lives in a
// temporary directory that is removed at the end.
func run(ctx context.Context, w io.Writer) (err error) {
	dir, err := os.MkdirTemp("", "licensekit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	k := &walk{w: w}
	k.say("1. The vendor starts its control plane: the reference server over a SQLite database,")
	k.say("   listening on loopback (in production: go run ./examples/server).")
	cp, err := startControlPlane(ctx, dir)
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { err = errors.Join(err, cp.close()) }()
	k.say("   $ CP=%s", cp.URL)
	k.say("   $ ADMIN_KEY=…   # the bootstrap super_admin key: LICENSEKIT_ADMIN_KEY (generated for this run, never shown)")
	k.v = &vendor{say: k.say, base: cp.URL, key: string(cp.adminKey), hc: &http.Client{Timeout: 10 * time.Second}}
	if err := k.issue(ctx, dir); err != nil {
		return err
	}
	return k.scenes(ctx)
}

// issue has the vendor issue a licence and download what the customer and
// the product need, then checks the key file offline as a product would.
func (k *walk) issue(ctx context.Context, dir string) error {
	k.say("")
	k.say("2. The vendor issues a licence for a customer through the admin API, downloads its key")
	k.say("   file for the customer, and the public keys (JWKS) that the product embeds.")
	lic, err := k.v.issue(ctx, map[string]any{
		"tenant_id":    "ten_clinic",
		"audience":     "Example Clinic",
		"plan":         "yearly",
		"capabilities": []string{"reports:read", "reports:export"},
	})
	if err != nil {
		return err
	}
	k.lic = lic
	k.say("   licence %s: %s, plan %s, expires %s", lic.ID, lic.Status, lic.Plan, lic.ExpiresAt.Format(time.DateOnly))
	keyFile, err := k.v.keyFile(ctx, lic.ID)
	if err != nil {
		return err
	}
	jwks, err := k.v.jwks(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "license.json")
	if err := os.WriteFile(path, keyFile, 0o600); err != nil {
		return err
	}

	k.say("")
	k.say("3. Offline, with nothing but the public keys, the key file verifies:")
	k.say("   keys, _ := license.ParseKeyring(jwks)")
	k.say("   lic, err := license.NewVerifier(keys, license.WithIssuer(%q)).VerifyKeyFile(kf)", issuer)
	keys, err := license.ParseKeyring(jwks)
	if err != nil {
		return err
	}
	if k.kf, err = license.ParseKeyFile(keyFile); err != nil {
		return err
	}
	got, err := license.NewVerifier(keys, license.WithIssuer(issuer)).VerifyKeyFile(k.kf)
	if err != nil {
		return fmt.Errorf("the key file does not verify: %w", err)
	}
	k.kfIat = got.IssuedAt
	k.say("   licence %s for %q, capabilities %v, %s slot, expires %s",
		got.ID, strings.Join(got.Audience, ", "), got.Capabilities, got.Slot, got.ExpiresAt.Format(time.DateOnly))

	k.net = &network{base: http.DefaultTransport.(*http.Transport).Clone()}
	k.cfg = license.Config{
		Keys:      keys, // a real product embeds these with //go:embed
		KeyFile:   path,
		AppID:     "quickstart-app",
		ServerURL: k.v.base,
		StateDir:  filepath.Join(dir, "state"),
		Issuer:    issuer,
		// A fixed machine identity, so the walk-through runs anywhere
		// (containers often have no machine id). Products leave it empty
		// or set LICENSEKIT_MACHINE_ID to a pod's stable identity.
		MachineID:  "quickstart-machine",
		HTTPClient: k.net.client(),
		Now:        func() time.Time { return time.Now().Add(time.Duration(k.offset.Load())) },
	}
	return nil
}

// start opens the product's licence manager, waits until it has tried the
// control plane (its first call goes out at once) and reached the scene's
// state, reports that state, runs the scene's then, and stops the product.
func (k *walk) start(ctx context.Context, sc scene) (err error) {
	m, err := license.Open(ctx, k.cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	deadline := time.Now().Add(sceneTimeout)
	for !k.settled(m.Status(), sc) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	st := m.Status()
	k.say("   → state: %s", describe(st))
	if !k.settled(st, sc) {
		want := sc.want.String()
		if sc.code != "" {
			want += " (" + sc.code + ")"
		}
		if st.State == sc.want && license.Code(st.Err) == sc.code {
			return fmt.Errorf("the product is %s but has not heard from the control plane as the scene expects after %v "+
				"(lease %q, previous %q; last error: %v)", describe(st), sceneTimeout, st.LeaseID, k.last.LeaseID, st.LastError)
		}
		return fmt.Errorf("the product is %s after %v, want %s (last error: %v)", describe(st), sceneTimeout, want, st.LastError)
	}
	if errors.Is(st.LastError, errUnplugged) {
		k.say("   (its calls to the control plane fail: the network is unplugged)")
	}
	k.last = st
	if sc.then != nil {
		return sc.then(ctx, m)
	}
	return nil
}

// settled reports whether st is the scene's end: since it started, the
// product has got a fresh lease from the control plane (or, with the
// network down, failed to reach it; or, when the scene expects a refusal,
// been refused), and is in the scene's state for the scene's reason.
func (k *walk) settled(st license.Status, sc scene) bool {
	var tried bool
	switch {
	case k.net.down.Load() || sc.refused:
		tried = st.LastError != nil
	default:
		// An answer brings a lease newer than the last scene's: one that
		// is not (a lease the control plane signs again rather than push
		// iat more than ten seconds ahead of its clock) counts as contact
		// but changes nothing, and the scene must not end on it.
		tried = !st.LastContact.IsZero() && st.LeaseID != "" && st.LeaseID != k.last.LeaseID
	}
	return tried && st.State == sc.want && license.Code(st.Err) == sc.code
}

// describe is a state as the narration shows it: "locked (REVOKED)".
func describe(st license.Status) string {
	if code := license.Code(st.Err); code != "" {
		return st.State.String() + " (" + code + ")"
	}
	return st.State.String()
}

func (k *walk) say(format string, args ...any) { fmt.Fprintf(k.w, format+"\n", args...) }

// now is the product's clock.
func (k *walk) now() time.Time { return k.cfg.Now() }
