package fingerprint

// Component names one part of a fingerprint.
type Component string

// The components of a version 1 fingerprint, in wire order.
const (
	// ComponentMachine is the OS machine id, or the override that replaces it.
	// It is essential: fingerprints with different machine components never match.
	ComponentMachine Component = "machine"
	// ComponentCPU is the CPU model name.
	ComponentCPU Component = "cpu"
	// ComponentSize is the machine's size: logical CPU count and total memory
	// rounded up coarsely (15.6 GiB reported counts as 16 GiB). One component,
	// so a VM resize is one change.
	ComponentSize Component = "size"
	// ComponentNIC is the set of permanent MAC addresses of physical NICs.
	ComponentNIC Component = "nic"
	// ComponentDisk is the hardware identity (WWID or serial) of the root disk.
	ComponentDisk Component = "disk"
)

// components lists the components by wire index; index 0 is the machine.
var components = [...]Component{ComponentMachine, ComponentCPU, ComponentSize, ComponentNIC, ComponentDisk}

const numComponents = len(components)

// Fingerprint identifies this machine for one app id. It is a small value,
// safe to copy and to use from several goroutines.
//
// The zero Fingerprint matches nothing; its String and MachineHash are empty.
type Fingerprint struct {
	b           blob
	s           string
	machineHash string
	exact       bool
}

// String returns the fingerprint as sent on activation and held in a lease's
// fpr claim: "fp1." followed by 64 base64url characters. It carries only
// keyed hashes, never a raw machine id, MAC address or model name.
func (f Fingerprint) String() string { return f.s }

// MachineHash returns a stable, per-app-id hex string derived only from the
// machine component (the machine id or its override). Hardware changes do not
// change it, which makes it fit to key local state such as a sealed grace file.
//
// It is a different derivation from anything in [Fingerprint.String], so it
// cannot be computed from a fingerprint string seen on the wire; keep it on
// the machine. It is empty for a fingerprint obtained with [Parse].
func (f Fingerprint) MachineHash() string { return f.machineHash }

// Components returns the components present in f, machine first. Components
// that could not be read on this machine are missing; see the package doc.
func (f Fingerprint) Components() []Component {
	if f.s == "" {
		return nil
	}
	out := make([]Component, 0, numComponents)
	for i, c := range components {
		if f.b.has(i) {
			out = append(out, c)
		}
	}
	return out
}

// Parse parses a fingerprint string, for example one a control plane
// received on activation, so it can be compared with [Fingerprint.Matches].
// The result uses the tolerant policy and has no [Fingerprint.MachineHash].
// Errors match [ErrMalformed] or [ErrVersion].
func Parse(s string) (Fingerprint, error) {
	var f Fingerprint
	if err := decode(s, &f.b); err != nil {
		return Fingerprint{}, err
	}
	f.s = s
	return f, nil
}
