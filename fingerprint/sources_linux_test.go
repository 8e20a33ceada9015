//go:build linux

package fingerprint

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tree builds a fake file system under a temporary root.
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T) tree { return tree{t, t.TempDir()} }

func (tr tree) path(rel string) string { return filepath.Join(tr.root, rel) }

func (tr tree) file(rel, content string) {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr tree) dir(rel string) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.path(rel), 0o755); err != nil {
		tr.t.Fatal(err)
	}
}

// link creates rel as a symlink to target (relative to rel's directory).
func (tr tree) link(rel, target string) {
	tr.t.Helper()
	p := tr.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr tree) fs() linuxFS {
	return linuxFS{etc: tr.path("etc"), sys: tr.path("sys"), proc: tr.path("proc"), run: tr.path("run"), varlib: tr.path("var/lib")}
}

// nic adds an interface to the fake /sys/class/net. devDir is where the
// kernel would put it under /sys/devices; physical adds a "device" link.
func (tr tree) nic(name, devDir string, physical bool, attrs map[string]string) {
	dir := filepath.Join("sys/devices", devDir, "net", name)
	tr.dir(dir)
	for k, v := range attrs {
		tr.file(filepath.Join(dir, k), v+"\n")
	}
	if physical {
		tr.link(filepath.Join(dir, "device"), "../..")
	}
	tr.link(filepath.Join("sys/class/net", name), filepath.Join("../../devices", devDir, "net", name))
}

func TestLinuxMACs(t *testing.T) {
	tr := newTree(t)
	perm := func(addr string) map[string]string {
		return map[string]string{"type": "1", "addr_assign_type": "0", "address": addr}
	}
	tr.nic("eth0", "pci0000:00/0000:00:03.0", true, perm("3c:ec:ef:00:00:01"))
	tr.nic("eth1", "pci0000:00/0000:00:04.0", true, map[string]string{"type": "1", "addr_assign_type": "3", "address": "3c:ec:ef:00:00:99"})
	tr.nic("eth2", "pci0000:00/0000:00:05.0", true, map[string]string{"type": "1", "addr_assign_type": "3", "address": "3c:ec:ef:00:00:01"})
	tr.file("sys/devices/pci0000:00/0000:00:05.0/net/eth2/bonding_slave/perm_hwaddr", "3c:ec:ef:00:00:02\n")
	tr.nic("eth3", "pci0000:00/0000:00:06.0", true, map[string]string{"type": "1", "address": "3c:ec:ef:00:00:03"}) // no addr_assign_type: old kernel
	tr.nic("wlan0", "pci0000:00/0000:00:14.3", true, map[string]string{"type": "1", "addr_assign_type": "1", "address": "3c:ec:ef:00:00:04"})
	tr.nic("enx001", "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0", true, perm("3c:ec:ef:00:00:05"))
	tr.nic("ens1f0v0", "pci0000:00/0000:00:07.1", true, perm("3c:ec:ef:00:00:06"))
	tr.link("sys/devices/pci0000:00/0000:00:07.1/net/ens1f0v0/physfn", "../../../0000:00:07.0")
	tr.nic("ib0", "pci0000:00/0000:00:08.0", true, map[string]string{"type": "32", "addr_assign_type": "0", "address": "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0d:16:71"})
	tr.nic("veth1a2b", "virtual", false, perm("3c:ec:ef:00:00:07"))
	tr.nic("docker0", "virtual", false, perm("3c:ec:ef:00:00:08"))
	tr.nic("br0", "virtual", false, perm("3c:ec:ef:00:00:09"))
	tr.nic("tap0", "virtual", false, perm("3c:ec:ef:00:00:0a"))
	tr.nic("tun0", "virtual", false, map[string]string{"type": "65534", "addr_assign_type": "0"})
	tr.nic("lo", "virtual", false, map[string]string{"type": "772", "addr_assign_type": "0", "address": "00:00:00:00:00:00"})
	tr.nic("weird", "virtual", true, perm("3c:ec:ef:00:00:0b")) // has a device link but lives under /devices/virtual
	tr.nic("eth9", "pci0000:00/0000:00:09.0", true, perm("not-a-mac"))

	got, err := tr.fs().macs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, m := range got {
		s = append(s, m.String())
	}
	slices.Sort(s)
	want := []string{"3c:ec:ef:00:00:01", "3c:ec:ef:00:00:02", "3c:ec:ef:00:00:03"}
	if !slices.Equal(s, want) {
		t.Errorf("macs = %v, want %v", s, want)
	}

	if _, err := newTree(t).fs().macs(context.Background()); err == nil {
		t.Error("macs without /sys/class/net: want an error")
	}
}

func TestLinuxCPU(t *testing.T) {
	tests := []struct {
		name, cpuinfo, want string
	}{
		{"x86", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n\nprocessor\t: 1\nmodel name\t: other\n", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"},
		{"arm64", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\n\nprocessor\t: 1\nCPU part\t: 0xd40\n", "arm 0x41 0xd0c 0x3"},
		{"power", "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n", "POWER9 (raw), altivec supported"},
		{"riscv", "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc\nuarch\t\t: sifive,u74-mc\n", "sifive,u74-mc"},
		{"empty model", "processor\t: 0\nmodel name\t:\n", ""},
		{"garbage", "\x00\x01\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			tr.file("proc/cpuinfo", tt.cpuinfo)
			got, err := tr.fs().cpuModel(context.Background())
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Errorf("cpuModel = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := newTree(t).fs().cpuModel(context.Background()); err == nil {
		t.Error("cpuModel without /proc/cpuinfo: want an error")
	}

	counts := []struct {
		present, online string
		want            int
	}{
		{"0-3,8-11\n", "0-1\n", 8},
		{"", "0\n", 1},
		{"garbage\n", "0-3\n", 4},
		{"", "", 0},
	}
	for _, c := range counts {
		tr := newTree(t)
		if c.present != "" {
			tr.file("sys/devices/system/cpu/present", c.present)
		}
		if c.online != "" {
			tr.file("sys/devices/system/cpu/online", c.online)
		}
		got, err := tr.fs().cpuCount(context.Background())
		if got != c.want || (err == nil) != (c.want != 0) {
			t.Errorf("cpuCount(present %q, online %q) = %d, %v; want %d", c.present, c.online, got, err, c.want)
		}
	}
}

func TestCountCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 1, true},
		{"0-1", 2, true},
		{"0-3,8-11", 8, true},
		{"0,2,4", 3, true},
		{"", 0, false},
		{"3-1", 0, false},
		{"-1", 0, false},
		{"a-b", 0, false},
		{"0-", 0, false},
		{"0,,1", 0, false},
	}
	for _, tt := range tests {
		if got, ok := countCPUList(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("countCPUList(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLinuxMachineID(t *testing.T) {
	tests := []struct {
		name, etc, dbus, want string
		wantErr               bool
	}{
		{"etc first", "aaaa\n", "bbbb\n", "aaaa\n", false},
		{"dbus fallback", "", "bbbb\n", "bbbb\n", false},
		{"empty etc", "\n", "bbbb\n", "bbbb\n", false},
		{"none", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTree(t)
			if tt.etc != "" {
				tr.file("etc/machine-id", tt.etc)
			}
			if tt.dbus != "" {
				tr.file("var/lib/dbus/machine-id", tt.dbus)
			}
			got, err := tr.fs().machineID(context.Background())
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("machineID = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestLinuxSystemSources runs the real sources: they must not panic, and
// what they return must be plausible where the files exist.
func TestLinuxSystemSources(t *testing.T) {
	ctx := context.Background()
	s := SystemSources()
	if _, err := os.Stat("/proc/cpuinfo"); err == nil {
		if m, err := s.CPUModel(ctx); err != nil || m == "" {
			t.Logf("CPUModel = %q, %v", m, err)
		}
	}
	if n, err := s.CPUCount(ctx); err == nil && n <= 0 {
		t.Errorf("CPUCount = %d", n)
	}
	if b, err := s.MemoryBytes(ctx); err != nil || b == 0 {
		t.Errorf("MemoryBytes = %d, %v", b, err)
	}
	macs, err := s.MACs(ctx)
	if err == nil {
		for _, m := range macs {
			if len(m) != 6 {
				t.Errorf("MAC %v is not EUI-48", m)
			}
		}
	}
	_, _ = s.RootDisk(ctx)
}
