//go:build windows

package fingerprint

import (
	"context"
	"net"
	"os"
	"strings"

	"github.com/denisbrodbeck/machineid"
	"golang.org/x/sys/windows/registry"
)

// On Windows the machine id is the registry's MachineGuid (machineid), the
// CPU model is read from the registry (gopsutil's cpu.Info goes through WMI,
// which takes tens of milliseconds), the CPU count and memory come from
// gopsutil (GetActiveProcessorCount, GlobalMemoryStatusEx), the NICs from the
// standard library with virtual adapters dropped by name. There is no cheap
// root disk identity without WMI, so that component is absent. Nothing
// starts a process.
func systemSources() Sources {
	return Sources{
		MachineID:   func(context.Context) (string, error) { return machineid.ID() },
		Getenv:      os.Getenv,
		CPUModel:    windowsCPUModel,
		CPUCount:    gopsutilCPUCount,
		MemoryBytes: gopsutilMemoryBytes,
		MACs: func(context.Context) ([]net.HardwareAddr, error) {
			return interfaceMACs(windowsPhysical)
		},
	}
}

func windowsCPUModel(context.Context) (string, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE,
		`HARDWARE\DESCRIPTION\System\CentralProcessor\0`, registry.QUERY_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	s, _, err := k.GetStringValue("ProcessorNameString")
	return s, err
}

// windowsVirtual are fragments of the names Windows gives virtual adapters
// (Hyper-V and WSL switches, VPN and capture drivers, Wi-Fi Direct).
var windowsVirtual = []string{
	"vethernet", "virtual", "vmware", "virtualbox", "hyper-v", "loopback",
	"bluetooth", "tap", "tun", "wireguard", "vpn", "npcap", "docker", "wsl", "*",
}

func windowsPhysical(name string) bool {
	name = strings.ToLower(name)
	for _, v := range windowsVirtual {
		if strings.Contains(name, v) {
			return false
		}
	}
	return true
}
