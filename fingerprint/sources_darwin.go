//go:build darwin

package fingerprint

import (
	"context"
	"net"
	"os"
	"strings"

	"github.com/shirou/gopsutil/v3/host"
	"golang.org/x/sys/unix"
)

// On macOS the machine id is the IOPlatformUUID, which only ioreg(8) or IOKit
// can read without cgo: gopsutil's host.HostIDWithContext runs ioreg once
// (bounded by ctx, its output captured), and Compute caches the result for
// the life of the process. This is the one place where the package starts a
// process; set LICENSEKIT_MACHINE_ID (or WithMachineID) to avoid it.
// sysctl kern.uuid is not an alternative: it names the kernel build, and
// every Mac on one macOS release shares it.
//
// CPU facts come from gopsutil (sysctl), memory from sysctl hw.memsize
// (gopsutil's mem.VirtualMemory runs vm_stat without cgo), NICs from the
// standard library. There is no cheap, process-free root disk identity, so
// that component is absent.
func systemSources() Sources {
	return Sources{
		MachineID: host.HostIDWithContext,
		Getenv:    os.Getenv,
		CPUModel:  gopsutilCPUModel,
		CPUCount:  gopsutilCPUCount,
		MemoryBytes: func(context.Context) (uint64, error) {
			return unix.SysctlUint64("hw.memsize")
		},
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			return interfaceMACs(darwinPhysical)
		},
	}
}

// darwinPhysical keeps Ethernet and Wi-Fi ports (en0, en1, ...) and drops
// bridges, tunnels (utun), AWDL/low-latency WLAN, Internet sharing (ap) and
// the like.
func darwinPhysical(name string) bool {
	return strings.HasPrefix(name, "en")
}
