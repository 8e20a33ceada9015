//go:build !linux && !darwin && !windows

package fingerprint

import (
	"context"
	"net"
	"os"

	"github.com/denisbrodbeck/machineid"
	"github.com/shirou/gopsutil/v3/mem"
)

// On other systems (the BSDs, illumos) the package uses what machineid and
// gopsutil offer: /etc/hostid, or kenv(1) when it is missing; CPU and memory
// facts from gopsutil; every non-loopback NIC. No root disk identity.
func systemSources() Sources {
	return Sources{
		MachineID: func(context.Context) (string, error) { return machineid.ID() },
		Getenv:    os.Getenv,
		CPUModel:  gopsutilCPUModel,
		CPUCount:  gopsutilCPUCount,
		MemoryBytes: func(ctx context.Context) (uint64, error) {
			vm, err := mem.VirtualMemoryWithContext(ctx)
			if err != nil {
				return 0, err
			}
			return vm.Total, nil
		},
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			return interfaceMACs(func(string) bool { return true })
		},
	}
}
