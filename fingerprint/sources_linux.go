//go:build linux

package fingerprint

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// On Linux every fact comes from a handful of reads in /etc, /proc and /sys
// plus one sysinfo(2) call: no process is started and none of gopsutil's
// slower paths (host.Info counting processes, cpu.Info walking cpufreq for
// every CPU) is taken.
func systemSources() Sources {
	l := linuxFS{etc: "/etc", sys: "/sys", proc: "/proc", run: "/run", varlib: "/var/lib"}
	return Sources{
		MachineID:   l.machineID,
		Getenv:      os.Getenv,
		CPUModel:    l.cpuModel,
		CPUCount:    l.cpuCount,
		MemoryBytes: memoryBytes,
		MACs:        l.macs,
		RootDisk:    l.rootDisk,
	}
}

// linuxFS reads the Linux pseudo file systems under configurable roots, so
// tests can point it at a fake tree.
type linuxFS struct{ etc, sys, proc, run, varlib string }

var errNotFound = errors.New("fingerprint: not found")

// machineID reads the systemd machine id. It reads /etc/machine-id first and
// the legacy D-Bus copy only as a fallback (machineid.ID does the opposite):
// a container that bind-mounts the host's /etc/machine-id must get the host's
// id even when its image carries a D-Bus id of its own.
func (l linuxFS) machineID(context.Context) (string, error) {
	id, err := os.ReadFile(filepath.Join(l.etc, "machine-id"))
	if err != nil || strings.TrimSpace(string(id)) == "" {
		if id2, err2 := os.ReadFile(filepath.Join(l.varlib, "dbus/machine-id")); err2 == nil {
			return string(id2), nil
		}
	}
	return string(id), err
}

// cpuModel returns the model of the first CPU in /proc/cpuinfo. It makes a
// single read of 2 KiB: the kernel formats cpuinfo one CPU at a time, as it
// is read (on x86 measuring each CPU's clock), so reading only the start
// stays cheap on machines with hundreds of CPUs.
func (l linuxFS) cpuModel(context.Context) (string, error) {
	b, err := readOnce(filepath.Join(l.proc, "cpuinfo"), 2<<10)
	if err != nil {
		return "", err
	}
	var fallback, implementer, part, variant string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if v == "" {
			continue
		}
		switch k {
		case "model name": // x86, some arm
			return v, nil
		case "cpu", "uarch", "Processor": // powerpc, riscv, old arm
			if fallback == "" {
				fallback = v
			}
		case "CPU implementer": // arm64
			if implementer == "" {
				implementer = v
			}
		case "CPU part":
			if part == "" {
				part = v
			}
		case "CPU variant":
			if variant == "" {
				variant = v
			}
		}
	}
	switch {
	case fallback != "":
		return fallback, nil
	case implementer != "" && part != "":
		return "arm " + implementer + " " + part + " " + variant, nil
	}
	return "", errNotFound
}

// cpuCount counts the present CPUs of the machine. Unlike runtime.NumCPU it
// ignores the process's affinity and cgroup cpuset, which differ between
// containers on one host; unlike "online" it does not change when SMT or a
// CPU is switched off.
func (l linuxFS) cpuCount(context.Context) (int, error) {
	for _, name := range []string{"present", "online"} {
		if n, ok := countCPUList(readTrim(filepath.Join(l.sys, "devices/system/cpu", name))); ok {
			return n, nil
		}
	}
	return 0, errNotFound
}

// countCPUList counts the CPUs in a kernel CPU list such as "0-3,8-11".
func countCPUList(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for _, r := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, false
			}
		}
		n += b - a + 1
	}
	return n, n > 0
}

// memoryBytes returns the machine's total RAM from sysinfo(2), which is
// MemTotal of /proc/meminfo without reading and parsing it.
func memoryBytes(context.Context) (uint64, error) {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0, err
	}
	return uint64(si.Totalram) * uint64(si.Unit), nil
}

// macs returns the permanent MAC addresses of the physical Ethernet and
// Wi-Fi NICs listed in /sys/class/net; see permanentMAC for the rules.
func (l linuxFS) macs(context.Context) ([]net.HardwareAddr, error) {
	dir := filepath.Join(l.sys, "class/net")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []net.HardwareAddr
	for _, e := range ents {
		if mac, ok := permanentMAC(filepath.Join(dir, e.Name())); ok {
			out = append(out, mac)
		}
	}
	return out, nil
}

// permanentMAC returns the permanent MAC of the interface at p, or false when
// the interface does not count:
//
//   - not Ethernet-like (type is not ARPHRD_ETHER: loopback, InfiniBand, tun);
//   - virtual: no "device" link, or living under /devices/virtual (veth,
//     bridge, docker0, tap, bond, vlan, macvlan, wireguard, ifb, dummy);
//   - on USB (docks and dongles come and go) or an SR-IOV virtual function;
//   - an address the kernel did not read from the hardware (addr_assign_type
//     random, stolen or set), unless bonding kept the permanent one.
func permanentMAC(p string) (net.HardwareAddr, bool) {
	if target, err := os.Readlink(p); err == nil &&
		(strings.Contains(target, "/devices/virtual/") || strings.Contains(target, "/usb")) {
		return nil, false
	}
	if readTrim(filepath.Join(p, "type")) != "1" {
		return nil, false
	}
	if _, err := os.Lstat(filepath.Join(p, "device")); err != nil {
		return nil, false
	}
	if _, err := os.Lstat(filepath.Join(p, "physfn")); err == nil {
		return nil, false
	}
	addr := readTrim(filepath.Join(p, "address"))
	switch t, err := readOnce(filepath.Join(p, "addr_assign_type"), 64); {
	case errors.Is(err, os.ErrNotExist): // kernels before 3.2
	case err == nil && strings.TrimSpace(string(t)) == "0": // NET_ADDR_PERM
	default:
		if addr = readTrim(filepath.Join(p, "bonding_slave/perm_hwaddr")); addr == "" {
			return nil, false
		}
	}
	mac, err := net.ParseMAC(addr)
	if err != nil {
		return nil, false
	}
	return mac, true
}

// readTrim returns the trimmed content of a sysfs attribute, or "" on any error.
func readTrim(path string) string {
	b, err := readOnce(path, 4<<10)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.Trim(string(b), "\x00"))
}

// readHead reads at most n bytes from the start of path.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(n)))
	return b, err
}

// readOnce makes a single read of at most n bytes. A sysfs attribute, or a
// seq_file's first records, come whole in one read; this saves the second
// read that would only report EOF.
func readOnce(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := f.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:k], nil
}
