package fingerprint_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/licensekit/licensekit/fingerprint"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// machine is a fake machine; zero fields are "cannot be read here".
type machine struct {
	id    string
	idErr error
	env   map[string]string
	model string
	cpus  int
	mem   uint64
	macs  []string
	disk  string
}

var errUnreadable = errors.New("unreadable")

func (m machine) sources() fingerprint.Sources {
	str := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) {
			if v == "" {
				return "", errUnreadable
			}
			return v, nil
		}
	}
	return fingerprint.Sources{
		MachineID: func(context.Context) (string, error) { return m.id, m.idErr },
		Getenv:    func(k string) string { return m.env[k] },
		CPUModel:  str(m.model),
		CPUCount: func(context.Context) (int, error) {
			if m.cpus == 0 {
				return 0, errUnreadable
			}
			return m.cpus, nil
		},
		MemoryBytes: func(context.Context) (uint64, error) {
			if m.mem == 0 {
				return 0, errUnreadable
			}
			return m.mem, nil
		},
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			if m.macs == nil {
				return nil, errUnreadable
			}
			var out []net.HardwareAddr
			for _, s := range m.macs {
				mac, err := net.ParseMAC(s)
				if err != nil {
					return nil, err
				}
				out = append(out, mac)
			}
			return out, nil
		},
		RootDisk: str(m.disk),
	}
}

// server is a fake machine with every component readable.
func server() machine {
	return machine{
		id:    "3d1219c7c4c5404aaa1f6d2a48adfda4",
		model: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
		cpus:  64,
		mem:   251<<30 + 512<<20, // what the kernel reports with 256 GiB installed
		macs:  []string{"3c:ec:ef:12:34:56", "3c:ec:ef:12:34:57"},
		disk:  "wwid:eui.0025388b91b2c3d4",
	}
}

const app = "acme-appliance"

func compute(t testing.TB, m machine, appID string, opts ...fingerprint.Option) fingerprint.Fingerprint {
	t.Helper()
	fp, err := fingerprint.Compute(context.Background(), appID, append(opts, fingerprint.WithSources(m.sources()))...)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return fp
}

var wire = regexp.MustCompile(`^fp1\.[A-Za-z0-9_-]{64}$`)

func TestStringFormat(t *testing.T) {
	for _, m := range []machine{server(), {id: "only-an-id"}} {
		s := compute(t, m, app).String()
		if !wire.MatchString(s) {
			t.Errorf("String() = %q, want fp1. and 64 base64url characters", s)
		}
	}
}

func TestStable(t *testing.T) {
	a := compute(t, server(), app)
	b := compute(t, server(), app)
	if a.String() != b.String() || a.MachineHash() != b.MachineHash() {
		t.Fatalf("two computations differ:\n%s\n%s", a, b)
	}
	if !a.Matches(b.String()) || !compute(t, server(), app, fingerprint.WithExactMatch()).Matches(a.String()) {
		t.Error("a fingerprint does not match itself")
	}
	want := []fingerprint.Component{fingerprint.ComponentMachine, fingerprint.ComponentCPU,
		fingerprint.ComponentSize, fingerprint.ComponentNIC, fingerprint.ComponentDisk}
	if got := a.Components(); !slices.Equal(got, want) {
		t.Errorf("Components() = %v, want %v", got, want)
	}
}

func TestPerAppSeparation(t *testing.T) {
	a := compute(t, server(), "product-a")
	b := compute(t, server(), "product-b")
	if a.String() == b.String() || a.MachineHash() == b.MachineHash() {
		t.Fatal("two app ids on one machine share a fingerprint")
	}
	c, err := a.Compare(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if c.SameMachine || len(c.Changed) != 4 || a.Matches(b.String()) {
		t.Errorf("fingerprints of two app ids share components: %+v", c)
	}
}

func TestPrivacy(t *testing.T) {
	m := server()
	m.id = "secret-machine-id-0123456789abcdef"
	fp := compute(t, m, app)
	out := fp.String() + " " + fp.MachineHash()
	for _, raw := range append([]string{m.id, "Xeon", "3c:ec:ef", "3cecef", "eui.00"}, m.macs...) {
		if strings.Contains(strings.ToLower(out), strings.ToLower(raw)) {
			t.Errorf("output reveals %q: %s", raw, out)
		}
	}
	if strings.Contains(fp.String(), fp.MachineHash()[:16]) {
		t.Error("MachineHash appears in String")
	}
}

func TestMachineHash(t *testing.T) {
	base := compute(t, server(), app)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(base.MachineHash()) {
		t.Fatalf("MachineHash() = %q, want 64 hex digits", base.MachineHash())
	}
	hw := server()
	hw.macs = []string{"00:1b:21:aa:bb:cc"}
	hw.mem = 512 << 30
	hw.cpus = 128
	hw.model = "AMD EPYC 7763 64-Core Processor"
	hw.disk = ""
	if got := compute(t, hw, app).MachineHash(); got != base.MachineHash() {
		t.Error("MachineHash changed with the hardware")
	}
	other := server()
	other.id = "ffffffffffffffffffffffffffffffff"
	if compute(t, other, app).MachineHash() == base.MachineHash() {
		t.Error("MachineHash did not change with the machine id")
	}
	over := compute(t, server(), app, fingerprint.WithMachineID("pod-0"))
	if over.MachineHash() == base.MachineHash() {
		t.Error("MachineHash ignores the override")
	}
	if p, _ := fingerprint.Parse(base.String()); p.MachineHash() != "" {
		t.Error("a parsed fingerprint has a MachineHash")
	}
}

func TestNoMachineID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		err  error
	}{
		{"read error", "", errors.New("open /etc/machine-id: no such file or directory")},
		{"empty", "", nil},
		{"blank", " \n", nil},
		{"systemd placeholder", "uninitialized\n", nil},
		{"zeros", "00000000000000000000000000000000", nil},
		{"zero guid", "{00000000-0000-0000-0000-000000000000}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := server()
			m.id, m.idErr = tt.id, tt.err
			fp, err := fingerprint.Compute(context.Background(), app, fingerprint.WithSources(m.sources()))
			if !errors.Is(err, fingerprint.ErrNoMachineID) {
				t.Fatalf("Compute = %v, %v; want ErrNoMachineID", fp, err)
			}
			if !strings.HasPrefix(err.Error(), "fingerprint: ") || !strings.Contains(err.Error(), fingerprint.EnvMachineID) {
				t.Errorf("error %q should start with the package name and name the remedy", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap the cause", err)
			}
			if fp.String() != "" {
				t.Error("a fingerprint was returned with the error")
			}
		})
	}
	if _, err := fingerprint.Compute(context.Background(), app, fingerprint.WithSources(fingerprint.Sources{})); !errors.Is(err, fingerprint.ErrNoMachineID) {
		t.Errorf("Compute with no sources = %v, want ErrNoMachineID", err)
	}
}

func TestPartialFailureDegrades(t *testing.T) {
	fp := compute(t, machine{id: "only-an-id"}, app)
	if got := fp.Components(); !slices.Equal(got, []fingerprint.Component{fingerprint.ComponentMachine}) {
		t.Errorf("Components() = %v, want just the machine", got)
	}
	src := server().sources()
	src.CPUModel, src.MACs = nil, nil
	fp, err := fingerprint.Compute(context.Background(), app, fingerprint.WithSources(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := fp.Components(); !slices.Equal(got, []fingerprint.Component{fingerprint.ComponentMachine,
		fingerprint.ComponentSize, fingerprint.ComponentDisk}) {
		t.Errorf("Components() = %v", got)
	}
	// Only-random MACs: the NIC component is absent, not a hash of nothing.
	m := server()
	m.macs = []string{"02:42:ac:11:00:02", "01:00:5e:00:00:01", "00:00:00:00:00:00"}
	if slices.Contains(compute(t, m, app).Components(), fingerprint.ComponentNIC) {
		t.Error("random, multicast and zero MACs made a NIC component")
	}
}

func TestOverride(t *testing.T) {
	ctx := context.Background()
	noID := server()
	noID.idErr = errors.New("no machine id in this container")

	viaOption := compute(t, noID, app, fingerprint.WithMachineID("pod-7f3c"))
	if !slices.Contains(viaOption.Components(), fingerprint.ComponentMachine) {
		t.Fatal("override did not produce a machine component")
	}

	// The override replaces the machine id: two machines with different ids
	// but the same override and hardware have the same fingerprint.
	other := server()
	other.id = "0123456789abcdef0123456789abcdef"
	if compute(t, other, app, fingerprint.WithMachineID("pod-7f3c")).String() != viaOption.String() {
		t.Error("override does not replace the machine id")
	}
	if compute(t, server(), app).Matches(viaOption.String()) {
		t.Error("overridden fingerprint matches the machine id's")
	}

	viaEnv := noID
	viaEnv.env = map[string]string{fingerprint.EnvMachineID: " pod-7f3c\n"}
	if got := compute(t, viaEnv, app); got.String() != viaOption.String() {
		t.Error("env override differs from the option")
	}
	if got := compute(t, viaEnv, app, fingerprint.WithMachineID("pod-other")); got.String() == viaOption.String() {
		t.Error("the option must take precedence over the environment")
	}
	blankEnv := server()
	blankEnv.env = map[string]string{fingerprint.EnvMachineID: "  "}
	if compute(t, blankEnv, app, fingerprint.WithMachineID(" ")).String() != compute(t, server(), app).String() {
		t.Error("blank overrides must mean unset")
	}

	if strings.Contains(viaOption.String(), "pod") || strings.Contains(viaOption.MachineHash(), "pod") {
		t.Error("the override appears raw")
	}

	_, err := fingerprint.Compute(ctx, app, fingerprint.WithSources(noID.sources()),
		fingerprint.WithMachineID(strings.Repeat("x", 1025)))
	if !errors.Is(err, fingerprint.ErrOverride) {
		t.Errorf("long override: %v, want ErrOverride", err)
	}
}

// TestOverrideEnvSystem sets the real environment variable and uses the
// system sources (the process cache).
func TestOverrideEnvSystem(t *testing.T) {
	ctx := context.Background()
	t.Setenv(fingerprint.EnvMachineID, "statefulset-acme-0")
	viaEnv, err := fingerprint.Compute(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	viaOption, err := fingerprint.Compute(ctx, app, fingerprint.WithMachineID("statefulset-acme-0"))
	if err != nil {
		t.Fatal(err)
	}
	if viaEnv.String() != viaOption.String() || viaEnv.MachineHash() != viaOption.MachineHash() {
		t.Error("LICENSEKIT_MACHINE_ID and WithMachineID disagree")
	}
}

func TestComputeArguments(t *testing.T) {
	if _, err := fingerprint.Compute(context.Background(), "", fingerprint.WithSources(server().sources())); !errors.Is(err, fingerprint.ErrAppID) {
		t.Errorf("empty app id: %v, want ErrAppID", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fingerprint.Compute(ctx, app); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := fingerprint.Compute(context.Background(), app, nil, fingerprint.WithSources(server().sources())); err != nil {
		t.Errorf("nil option: %v", err)
	}
}

// TestSystem computes on the real machine, through the process cache.
func TestSystem(t *testing.T) {
	ctx := context.Background()
	fp, err := fingerprint.Compute(ctx, app)
	if errors.Is(err, fingerprint.ErrNoMachineID) {
		t.Skipf("no machine id on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !wire.MatchString(fp.String()) {
		t.Errorf("String() = %q", fp)
	}
	warm, _ := fingerprint.Compute(ctx, app)
	fresh, err := fingerprint.Compute(ctx, app, fingerprint.WithRefresh())
	if err != nil || warm.String() != fp.String() || fresh.String() != fp.String() {
		t.Errorf("system fingerprint unstable: %s / %s / %s (%v)", fp, warm, fresh, err)
	}
	if !fp.Matches(fresh.String()) || fp.MachineHash() != fresh.MachineHash() {
		t.Error("system fingerprint does not match itself")
	}
	t.Logf("components on this machine: %v", fp.Components())
}
