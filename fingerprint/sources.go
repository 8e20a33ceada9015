package fingerprint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Sources are the facts a fingerprint is made of. [SystemSources] reads the
// machine; tests pass their own with [WithSources].
//
// Every field may be nil, meaning "not available here". A function that
// returns an error or an empty value leaves its component out of the
// fingerprint (it degrades, it does not fail), except MachineID: without a
// machine id and without an override, [Compute] fails with [ErrNoMachineID].
// The functions must be safe to call from several goroutines.
type Sources struct {
	// MachineID returns the raw OS machine id (/etc/machine-id on Linux,
	// IOPlatformUUID on macOS, MachineGuid on Windows).
	MachineID func(ctx context.Context) (string, error)

	// Getenv looks up an environment variable; it is asked for [EnvMachineID].
	Getenv func(key string) string

	// CPUModel returns the CPU model name.
	CPUModel func(ctx context.Context) (string, error)

	// CPUCount returns the number of logical CPUs of the machine (not the
	// process's affinity or cgroup quota, which change per container).
	CPUCount func(ctx context.Context) (int, error)

	// MemoryBytes returns the total memory of the machine in bytes.
	MemoryBytes func(ctx context.Context) (uint64, error)

	// MACs returns the permanent MAC addresses of physical NICs. Addresses
	// that are not unicast, universally administered EUI-48 are dropped
	// whatever the source says.
	MACs func(ctx context.Context) ([]net.HardwareAddr, error)

	// RootDisk returns a hardware identity (WWID, serial) of the disk that
	// holds the root file system.
	RootDisk func(ctx context.Context) (string, error)
}

// SystemSources returns the sources [Compute] reads by default on this
// platform. None of them starts a process on Linux or Windows; see the
// package doc for what each platform provides.
func SystemSources() Sources { return systemSources() }

// facts is what was read from the sources, normalised. The machine id is
// read lazily, only when no override replaces it.
type facts struct {
	machineRead bool
	machineID   string
	machineErr  error

	values [numComponents]string // canonical component values; "" = absent
}

// collect reads the hardware components from src.
func collect(ctx context.Context, src *Sources) *facts {
	f := new(facts)
	if src.CPUModel != nil {
		if m, err := src.CPUModel(ctx); err == nil {
			if m = strings.Join(strings.Fields(m), " "); m != "" {
				f.values[1] = "model=" + m
			}
		}
	}
	var size []string
	if src.CPUCount != nil {
		if n, err := src.CPUCount(ctx); err == nil && n > 0 {
			size = append(size, "cpus="+strconv.Itoa(n))
		}
	}
	if src.MemoryBytes != nil {
		if b, err := src.MemoryBytes(ctx); err == nil && b > 0 {
			size = append(size, "mem="+strconv.FormatUint(memoryClass(b)>>20, 10)+"MiB")
		}
	}
	f.values[2] = strings.Join(size, ";")
	if src.MACs != nil {
		if macs, err := src.MACs(ctx); err == nil {
			f.values[3] = canonicalMACs(macs)
		}
	}
	if src.RootDisk != nil {
		if d, err := src.RootDisk(ctx); err == nil {
			f.values[4] = strings.Join(strings.Fields(d), " ")
		}
	}
	return f
}

// memoryClass rounds a total memory figure up to a multiple of an eighth of
// the next power of two: 15.6 GiB reported becomes 16 GiB, 251.5 GiB becomes
// 256 GiB, 23.4 GiB becomes 24 GiB. The kernel reports less than is installed
// (firmware, kernel image, crash kernel) and the shortfall drifts with kernel
// updates; a step of 1/16 to 1/8 of the size absorbs that where a fixed 1 GiB
// step would flip near its boundaries.
func memoryClass(b uint64) uint64 {
	if b > 1<<62 {
		return b
	}
	p := uint64(1) << bits.Len64(b-1) // next power of two >= b
	step := max(p/8, 1)
	return (b + step - 1) / step * step
}

// readMachineID reads and validates the machine id once.
func (f *facts) readMachineID(ctx context.Context, src *Sources) {
	if f.machineRead {
		return
	}
	f.machineRead = true
	if src.MachineID == nil {
		f.machineErr = noMachineID(errors.New("no machine id source"))
		return
	}
	id, err := src.MachineID(ctx)
	id = strings.TrimSpace(id)
	switch {
	case err != nil:
		f.machineErr = noMachineID(err)
	case !usableMachineID(id):
		f.machineErr = noMachineID(errors.New("machine id is empty or a placeholder"))
	default:
		f.machineID = id
	}
}

// noMachineID wraps cause in [ErrNoMachineID] with a hint at the remedy.
func noMachineID(cause error) error {
	return fmt.Errorf("%w (set %s or use WithMachineID): %w", ErrNoMachineID, EnvMachineID, cause)
}

// usableMachineID rejects the empty id, systemd's first-boot placeholder and
// ids made only of zeros, which would give every such machine one fingerprint.
func usableMachineID(id string) bool {
	if id == "" || id == "uninitialized" {
		return false
	}
	return strings.Trim(id, "0-{}") != ""
}

// canonicalMACs keeps unicast, universally administered, non-zero EUI-48
// addresses and returns them sorted, deduplicated, comma-separated.
func canonicalMACs(macs []net.HardwareAddr) string {
	out := make([]string, 0, len(macs))
	for _, m := range macs {
		if len(m) != 6 || m[0]&0x03 != 0 || bytes.Equal(m, make(net.HardwareAddr, 6)) {
			continue // multicast, locally administered (random, virtual) or zero
		}
		out = append(out, m.String())
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ",")
}
