//go:build !linux && !darwin && !windows

package fingerprint

import (
	"context"
	"net"
	"os"

	"github.com/denisbrodbeck/machineid"
)

// On other systems (the BSDs, illumos) the package uses what machineid and
// gopsutil offer: /etc/hostid, or kenv(1) when it is missing; CPU and memory
// facts from gopsutil; every non-loopback NIC. No root disk identity.
func systemSources() Sources {
	return Sources{
		MachineID:   func(context.Context) (string, error) { return machineid.ID() },
		Getenv:      os.Getenv,
		CPUModel:    gopsutilCPUModel,
		CPUCount:    gopsutilCPUCount,
		MemoryBytes: gopsutilMemoryBytes,
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			return interfaceMACs(func(string) bool { return true })
		},
	}
}
