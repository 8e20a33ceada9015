package fingerprint_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/licensekit/licensekit/fingerprint"
)

// demo returns fixed sources so the examples print stable output; a product
// passes no sources and gets the machine's own.
func demo() fingerprint.Sources {
	return fingerprint.Sources{
		MachineID:   func(context.Context) (string, error) { return "3d1219c7c4c5404aaa1f6d2a48adfda4", nil },
		CPUModel:    func(context.Context) (string, error) { return "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", nil },
		CPUCount:    func(context.Context) (int, error) { return 64, nil },
		MemoryBytes: func(context.Context) (uint64, error) { return 251<<30 + 512<<20, nil },
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			return []net.HardwareAddr{{0x3c, 0xec, 0xef, 0x12, 0x34, 0x56}}, nil
		},
		RootDisk: func(context.Context) (string, error) { return "wwid:eui.0025388b91b2c3d4", nil },
	}
}

func ExampleCompute() {
	// A product calls fingerprint.Compute(ctx, "acme-appliance").
	fp, err := fingerprint.Compute(context.Background(), "acme-appliance", fingerprint.WithSources(demo()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fp)
	fmt.Println(fp.Components())
	// Output:
	// fp1.H0-ziTlKjGNeqDIxHJYZ-WKVnvZj8K0CB0H_U2znhtL-eQo96y4Hl6elnEUa_3ia
	// [machine cpu size nic disk]
}

func ExampleFingerprint_Matches() {
	ctx := context.Background()
	recorded, _ := fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(demo()))

	// The NIC is replaced: one component changed, still this machine.
	src := demo()
	src.MACs = func(context.Context) ([]net.HardwareAddr, error) {
		return []net.HardwareAddr{{0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}}, nil
	}
	fp, _ := fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(src))
	fmt.Println("NIC swapped:", fp.Matches(recorded.String()))

	// A product that demands an exact match refuses it.
	exact, _ := fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(src), fingerprint.WithExactMatch())
	fmt.Println("NIC swapped, exact policy:", exact.Matches(recorded.String()))

	// The RAM is upgraded as well: two components changed, another machine.
	src.MemoryBytes = func(context.Context) (uint64, error) { return 512 << 30, nil }
	fp, _ = fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(src))
	fmt.Println("NIC and RAM:", fp.Matches(recorded.String()))
	c, _ := fp.Compare(recorded.String())
	fmt.Println("changed:", c.Changed)

	fmt.Println("garbage:", fp.Matches("not a fingerprint"))
	// Output:
	// NIC swapped: true
	// NIC swapped, exact policy: false
	// NIC and RAM: false
	// changed: [size nic]
	// garbage: false
}

func ExampleWithMachineID() {
	ctx := context.Background()
	// A container without /etc/machine-id.
	src := demo()
	src.MachineID = func(context.Context) (string, error) {
		return "", errors.New("open /etc/machine-id: no such file or directory")
	}

	_, err := fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(src))
	fmt.Println(errors.Is(err, fingerprint.ErrNoMachineID))

	// The pod's stable identity, from config or from LICENSEKIT_MACHINE_ID.
	fp, err := fingerprint.Compute(ctx, "acme-appliance", fingerprint.WithSources(src),
		fingerprint.WithMachineID("6b0c3f0e-5a51-4f7e-9a55-0c1f7f0e2d11"))
	fmt.Println(err, fp.Components()[0])
	// Output:
	// true
	// <nil> machine
}

func ExampleParse() {
	// A control plane holds the fingerprint a licence was activated with
	// (this one is ExampleCompute's) and checks each heartbeat's against it.
	bound, err := fingerprint.Parse("fp1.H0-ziTlKjGNeqDIxHJYZ-WKVnvZj8K0CB0H_U2znhtL-eQo96y4Hl6elnEUa_3ia")
	if err != nil {
		fmt.Println(err)
		return
	}
	// The same machine after a NIC swap (ExampleFingerprint_Matches).
	heartbeat := "fp1.H0-ziTlKjGNeqDIxHJYZ-WKVnvZj8K0CB0H_U2znhtL6YlcvtCUlk6elnEUa_3ia"
	c, _ := bound.Compare(heartbeat)
	fmt.Println(bound.Matches(heartbeat), c.Changed)

	_, err = fingerprint.Parse("fp2.from-a-newer-client")
	fmt.Println(err)
	// Output:
	// true [nic]
	// fingerprint: unsupported fingerprint version "fp2."
}
