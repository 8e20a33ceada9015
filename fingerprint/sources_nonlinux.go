//go:build !linux

package fingerprint

import (
	"context"
	"net"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/mem"
)

// interfaceMACs returns the hardware addresses of the interfaces the
// standard library lists whose name passes keep and that are not loopback or
// point-to-point. Locally administered (random, virtual) addresses are
// dropped later for every platform.
func interfaceMACs(keep func(name string) bool) ([]net.HardwareAddr, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []net.HardwareAddr
	for _, ifc := range ifs {
		if ifc.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 || !keep(ifc.Name) {
			continue
		}
		out = append(out, ifc.HardwareAddr)
	}
	return out, nil
}

// gopsutilCPUCount returns the logical CPU count gopsutil reports.
func gopsutilCPUCount(ctx context.Context) (int, error) {
	return cpu.CountsWithContext(ctx, true)
}

// gopsutilMemoryBytes returns the total memory gopsutil reports.
func gopsutilMemoryBytes(ctx context.Context) (uint64, error) {
	vm, err := mem.VirtualMemoryWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return vm.Total, nil
}
