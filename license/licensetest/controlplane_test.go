package licensetest_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/fingerprint"
	"github.com/licensekit/licensekit/heartbeat"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// cpRig is a control plane, a licence it knows, and a heartbeat client
// speaking to it the way a product does.
type cpRig struct {
	iss    *licensetest.Issuer
	cp     *licensetest.ControlPlane
	client *heartbeat.Client
	lic    string
	token  string
}

func newCP(t *testing.T) *cpRig {
	t.Helper()
	iss := licensetest.NewIssuer(t)
	cp := licensetest.NewControlPlane(iss)
	tok := iss.Mint(licensetest.ID("lic_cp"))
	return &cpRig{iss: iss, cp: cp, lic: "lic_cp", token: tok,
		client: &heartbeat.Client{BaseURL: cp.URL(), HTTPClient: cp.Client()}}
}

func (r *cpRig) req(fpr string) heartbeat.Request {
	return heartbeat.Request{LicenseID: r.lic, Token: r.token, Fingerprint: fpr, IdempotencyKey: "idem-" + fpr}
}

func TestControlPlaneActivateAndBeat(t *testing.T) {
	r := newCP(t)
	ctx := context.Background()
	resp, err := r.client.Activate(ctx, r.req("machine-A"))
	if err != nil {
		t.Fatal(err)
	}
	lease, err := r.iss.Verifier().VerifyLease(resp.Lease)
	if err != nil {
		t.Fatalf("the lease does not verify: %v", err)
	}
	if lease.LicenseID != r.lic || lease.Fingerprint != "machine-A" || lease.Status != license.LeaseActive {
		t.Fatalf("lease = %+v", lease)
	}
	if got := lease.ExpiresAt.Sub(lease.IssuedAt); got != licensetest.DefaultGrace {
		t.Fatalf("lease length %v, want %v", got, licensetest.DefaultGrace)
	}
	if resp.NextHeartbeat != time.Hour {
		t.Fatalf("next heartbeat %v", resp.NextHeartbeat)
	}
	// The same activation again is idempotent; another machine is refused.
	if _, err := r.client.Activate(ctx, r.req("machine-A")); err != nil {
		t.Fatalf("repeated activation: %v", err)
	}
	if _, err := r.client.Activate(ctx, r.req("machine-B")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("second machine: %v", err)
	}
	if _, err := r.client.Heartbeat(ctx, r.req("machine-B")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("heartbeat from the second machine: %v", err)
	}
	r.cp.SetInterval(5 * time.Minute) // first: the grace must stay longer than the interval
	r.cp.SetGrace(time.Hour)
	resp, err = r.client.Heartbeat(ctx, r.req("machine-A"))
	if err != nil {
		t.Fatal(err)
	}
	lease, _ = r.iss.Verifier().VerifyLease(resp.Lease)
	// exp is server time plus the grace (iat may run a second or two ahead
	// of the clock after the activations of this same second).
	if lease.ExpiresAt.Sub(resp.ServerTime) != time.Hour || resp.NextHeartbeat != 5*time.Minute {
		t.Fatalf("SetGrace/SetInterval not applied: %v, %v", lease.ExpiresAt.Sub(resp.ServerTime), resp.NextHeartbeat)
	}
	if r.cp.Count("activate") != 2 || r.cp.Count("heartbeat") != 1 {
		t.Fatalf("counts: %d activations, %d heartbeats", r.cp.Count("activate"), r.cp.Count("heartbeat"))
	}
	if got := len(r.cp.Received()); got != 5 {
		t.Fatalf("received %d requests, want 5", got)
	}
}

func TestControlPlaneVerdicts(t *testing.T) {
	r := newCP(t)
	ctx := context.Background()
	v := r.iss.Verifier()
	if _, err := r.client.Activate(ctx, r.req("machine-A")); err != nil {
		t.Fatal(err)
	}
	statusOf := func(fpr string) string {
		t.Helper()
		resp, err := r.client.Heartbeat(ctx, r.req(fpr))
		if err != nil {
			t.Fatal(err)
		}
		l, err := v.VerifyLease(resp.Lease)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != resp.Status {
			t.Fatalf("signed status %q, body status %q", l.Status, resp.Status)
		}
		return l.Status
	}
	r.cp.Suspend(r.lic)
	if s := statusOf("machine-A"); s != license.LeaseSuspended {
		t.Fatalf("after Suspend: %q", s)
	}
	if _, err := r.client.Activate(ctx, r.req("machine-A")); !errors.Is(err, heartbeat.ErrSuspended) {
		t.Fatalf("activation of a suspended licence: %v", err)
	}
	r.cp.Restore(r.lic)
	if s := statusOf("machine-A"); s != license.LeaseActive {
		t.Fatalf("after Restore: %q", s)
	}
	r.cp.Rebind(r.lic, "machine-C")
	if got := r.cp.BoundTo(r.lic); got != "machine-C" {
		t.Fatalf("BoundTo = %q", got)
	}
	if _, err := r.client.Heartbeat(ctx, r.req("machine-A")); !errors.Is(err, heartbeat.ErrBoundElsewhere) {
		t.Fatalf("old machine after Rebind: %v", err)
	}
	if err := r.client.Deactivate(ctx, r.req("machine-C")); err != nil {
		t.Fatal(err)
	}
	if got := r.cp.BoundTo(r.lic); got != "" {
		t.Fatalf("after Deactivate BoundTo = %q", got)
	}
	if _, err := r.client.Activate(ctx, r.req("machine-C")); err != nil {
		t.Fatalf("machine C back on its held seat: %v", err)
	}
	r.cp.Revoke(r.lic)
	if s := statusOf("machine-C"); s != license.LeaseRevoked {
		t.Fatalf("after Revoke: %q", s)
	}
	if _, err := r.client.Activate(ctx, r.req("machine-C")); !errors.Is(err, heartbeat.ErrRevoked) {
		t.Fatalf("activation of a revoked licence: %v", err)
	}
	r.cp.Forget(r.lic)
	if _, err := r.client.Heartbeat(ctx, r.req("machine-C")); !errors.Is(err, heartbeat.ErrUnknownLicense) {
		t.Fatalf("forgotten licence: %v", err)
	}
}

// The admin calls are the real server's, with its rules: revocation is
// final, so restoring a revoked licence fails the test with the server's
// reason; a licence the control plane cannot know fails it too; and a
// licence the issuer minted is known before any device presents it.
func TestControlPlaneAdminRules(t *testing.T) {
	tests := []struct {
		name string
		fn   func(tb licensetest.TB)
		want string
	}{
		{"restore after revoke", func(tb licensetest.TB) {
			iss := licensetest.NewIssuer(tb)
			cp := licensetest.NewControlPlane(iss)
			iss.Mint(licensetest.ID("lic_r"))
			cp.Revoke("lic_r")
			cp.Restore("lic_r")
		}, "Only a suspended licence can be restored (this one is revoked)"},
		{"revoke twice", func(tb licensetest.TB) {
			iss := licensetest.NewIssuer(tb)
			cp := licensetest.NewControlPlane(iss)
			iss.Mint(licensetest.ID("lic_r"))
			cp.Revoke("lic_r")
			cp.Revoke("lic_r")
		}, "already revoked"},
		{"unknown licence", func(tb licensetest.TB) {
			licensetest.NewControlPlane(licensetest.NewIssuer(tb)).Suspend("lic_nobody")
		}, `does not know licence "lic_nobody"`},
		{"minted before the control plane", func(tb licensetest.TB) {
			iss := licensetest.NewIssuer(tb)
			iss.Mint(licensetest.ID("lic_early"))
			licensetest.NewControlPlane(iss).Revoke("lic_early")
		}, `does not know licence "lic_early"`},
		{"grace not above the interval", func(tb licensetest.TB) {
			licensetest.NewControlPlane(licensetest.NewIssuer(tb)).SetGrace(time.Hour)
		}, "grace must be longer than heartbeat_interval"},
		{"rebind to nowhere", func(tb licensetest.TB) {
			iss := licensetest.NewIssuer(tb)
			cp := licensetest.NewControlPlane(iss)
			iss.Mint(licensetest.ID("lic_r"))
			cp.Rebind("lic_r", "")
		}, "Rebind needs the fingerprint"},
	}
	for _, tc := range tests {
		msg := (&fakeT{}).run(tc.fn)
		if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "licensetest: ") {
			t.Errorf("%s: %q, want a licensetest failure containing %q", tc.name, msg, tc.want)
		}
	}

	// Known from the minting: revoked before its first activation.
	r := newCP(t)
	r.cp.Revoke(r.lic)
	if _, err := r.client.Activate(context.Background(), r.req("machine-A")); !errors.Is(err, heartbeat.ErrRevoked) {
		t.Fatalf("activation of a licence revoked before any device call: %v", err)
	}
}

func TestControlPlaneRefusesBadRequests(t *testing.T) {
	r := newCP(t)
	ctx := context.Background()
	other := licensetest.NewIssuer(t) // a token this control plane did not sign
	cases := map[string]heartbeat.Request{
		"foreign token":     {LicenseID: r.lic, Token: other.Mint(licensetest.ID(r.lic)), Fingerprint: "m", IdempotencyKey: "k"},
		"token for another": {LicenseID: r.lic, Token: r.iss.Mint(licensetest.ID("lic_other")), Fingerprint: "m", IdempotencyKey: "k"},
		"expired token":     {LicenseID: r.lic, Token: r.iss.Mint(licensetest.ID(r.lic), licensetest.ExpiresIn(-time.Hour)), Fingerprint: "m", IdempotencyKey: "k"},
	}
	for name, req := range cases {
		_, err := r.client.Activate(ctx, req)
		var he *heartbeat.Error
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400", name, err)
		}
	}
	if r.cp.BoundTo(r.lic) != "" {
		t.Fatal("a refused request bound the licence")
	}
}

func TestControlPlaneFaultsAndDown(t *testing.T) {
	r := newCP(t)
	ctx := context.Background()
	r.cp.Fail(
		licensetest.Fault{Status: 503, RetryAfter: "120"},
		licensetest.Fault{Status: 200, Body: "garbage"},
		licensetest.Fault{Status: 429},
	)
	_, err := r.client.Activate(ctx, r.req("m"))
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 503 || he.RetryAfter != 120*time.Second {
		t.Fatalf("first fault: %v", err)
	}
	if _, err := r.client.Activate(ctx, r.req("m")); !errors.Is(err, heartbeat.ErrBadResponse) {
		t.Fatalf("garbage 200: %v", err)
	}
	if _, err := r.client.Activate(ctx, r.req("m")); !heartbeat.IsTransient(err) {
		t.Fatalf("429: %v", err)
	}
	if _, err := r.client.Activate(ctx, r.req("m")); err != nil {
		t.Fatalf("faults are used up, the real answer resumes: %v", err)
	}
	r.cp.SetDown(true)
	if _, err := r.client.Heartbeat(ctx, r.req("m")); !heartbeat.IsTransient(err) {
		t.Fatalf("down: %v", err)
	}
	r.cp.SetDown(false)
	if _, err := r.client.Heartbeat(ctx, r.req("m")); err != nil {
		t.Fatalf("back up: %v", err)
	}
}

// A fingerprint that changed in one component (a NIC swap) is still the
// same machine to the control plane.
func TestControlPlaneTolerantFingerprint(t *testing.T) {
	r := newCP(t)
	ctx := context.Background()
	src := fingerprint.Sources{
		MachineID:   func(context.Context) (string, error) { return "0123456789abcdef0123456789abcdef", nil },
		Getenv:      func(string) string { return "" },
		CPUModel:    func(context.Context) (string, error) { return "Test CPU", nil },
		CPUCount:    func(context.Context) (int, error) { return 8, nil },
		MemoryBytes: func(context.Context) (uint64, error) { return 16 << 30, nil },
		MACs:        func(context.Context) ([]net.HardwareAddr, error) { return nil, nil },
		RootDisk:    func(context.Context) (string, error) { return "disk-1", nil },
	}
	fp := func(disk string, mem uint64) string {
		s := src
		s.RootDisk = func(context.Context) (string, error) { return disk, nil }
		s.MemoryBytes = func(context.Context) (uint64, error) { return mem, nil }
		f, err := fingerprint.Compute(ctx, "app", fingerprint.WithSources(s))
		if err != nil {
			t.Fatal(err)
		}
		return f.String()
	}
	before, after, later := fp("disk-1", 16<<30), fp("disk-2", 16<<30), fp("disk-2", 32<<30)
	if before == after {
		t.Fatal("the fake disk change did not change the fingerprint")
	}
	if _, err := r.client.Activate(ctx, r.req(before)); err != nil {
		t.Fatal(err)
	}
	resp, err := r.client.Heartbeat(ctx, r.req(after))
	if err != nil {
		t.Fatalf("one component changed: %v", err)
	}
	// The lease names the fingerprint sent, as products require, and the
	// binding follows the machine to its new fingerprint.
	if l, err := r.iss.Verifier().VerifyLease(resp.Lease); err != nil || l.Fingerprint != after {
		t.Fatalf("lease after the change: %v, %+v", err, l)
	}
	if got := r.cp.BoundTo(r.lic); got != after {
		t.Fatalf("BoundTo = %q, want the fingerprint after the change", got)
	}
	// A second change a year later is measured from the first: the two
	// never add up to a mismatch (later is two components from before).
	fb, _ := fingerprint.Parse(later)
	if fb.Matches(before) {
		t.Fatal("the test's second change is not two components from the first fingerprint")
	}
	if _, err := r.client.Heartbeat(ctx, r.req(later)); err != nil {
		t.Fatalf("a second change, one at a time: %v", err)
	}
	if got := r.cp.BoundTo(r.lic); got != later {
		t.Fatalf("BoundTo = %q after the second change", got)
	}
}

// The same control plane behind a real listener.
func TestControlPlaneServer(t *testing.T) {
	r := newCP(t)
	srv := r.cp.NewServer()
	c := &heartbeat.Client{BaseURL: srv.URL}
	resp, err := c.Activate(context.Background(), r.req("machine-A"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Lease, "ey") || resp.Status != "active" {
		t.Fatalf("response %+v", resp)
	}

	// Down behind a listener: no answer, a transport failure for the
	// client, and the attempt is recorded with Answer 0.
	r.cp.SetDown(true)
	_, err = c.Heartbeat(context.Background(), r.req("machine-A"))
	if !heartbeat.IsTransient(err) || !errors.Is(err, heartbeat.ErrUnavailable) {
		t.Fatalf("down: %v", err)
	}
	var he *heartbeat.Error
	if !errors.As(err, &he) || he.StatusCode != 0 {
		t.Fatalf("down answered with a status: %v", err)
	}
	got := r.cp.Received()
	if last := got[len(got)-1]; last.Op != "heartbeat" || last.Answer != 0 {
		t.Fatalf("last received %+v", last)
	}
	r.cp.SetDown(false)
	if _, err := c.Heartbeat(context.Background(), r.req("machine-A")); err != nil {
		t.Fatalf("back up: %v", err)
	}
	c.CloseIdleConnections()
}
