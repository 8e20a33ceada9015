//go:build linux

package fingerprint

import (
	"path/filepath"
	"testing"
)

// disk adds a block device under /sys/devices/devDir/block and its
// /sys/dev/block link.
func (tr tree) disk(num, devDir string, attrs map[string]string) string {
	dir := filepath.Join("sys/devices", devDir)
	tr.dir(dir)
	tr.file(filepath.Join(dir, "dev"), num+"\n")
	for k, v := range attrs {
		tr.file(filepath.Join(dir, k), v)
	}
	tr.link(filepath.Join("sys/dev/block", num), filepath.Join("../../devices", devDir))
	return dir
}

func TestLinuxDiskIdentity(t *testing.T) {
	tr := newTree(t)
	const nvme = "pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1"
	tr.disk("259:0", nvme, map[string]string{"wwid": "eui.0025388b91b2c3d4\n", "device/serial": "S4EWNX0R123456      \n"})
	tr.disk("259:1", nvme+"/nvme0n1p1", map[string]string{"partition": "1\n"})
	tr.disk("259:2", nvme+"/nvme0n1p2", map[string]string{"partition": "2\n"})
	dm := tr.disk("253:0", "virtual/block/dm-0", nil)
	tr.link(filepath.Join(dm, "slaves/nvme0n1p2"), "../../../../pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2")

	const scsi = "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block"
	tr.disk("8:0", scsi+"/sda", map[string]string{"device/wwid": "naa.5000c500a1b2c3d4\n"})
	tr.disk("8:1", scsi+"/sda/sda1", map[string]string{"partition": "1\n"})
	tr.disk("8:16", scsi+"/sdb", map[string]string{"device/wwid": "naa.5000c500a1b2c3d5\n"})
	tr.disk("8:17", scsi+"/sdb/sdb1", map[string]string{"partition": "1\n"})
	md := tr.disk("9:0", "virtual/block/md0", nil)
	tr.link(filepath.Join(md, "slaves/sdb1"), "../../../../"+scsi+"/sdb/sdb1")
	tr.link(filepath.Join(md, "slaves/sda1"), "../../../../"+scsi+"/sda/sda1")

	tr.disk("254:0", "pci0000:00/0000:00:02.0/virtio1/block/vda", map[string]string{"serial": "vol-0abc123\n"})
	tr.disk("254:16", "pci0000:00/0000:00:05.0/virtio4/block/vdb", map[string]string{"serial": ""})
	tr.file("run/udev/data/b254:16", "S:disk/by-id/x\nE:ID_SERIAL=QEMU_HARDDISK_QM00001\nG:systemd\n")
	tr.disk("254:32", "pci0000:00/0000:00:06.0/virtio5/block/vdc", nil)
	tr.disk("7:0", "virtual/block/loop0", nil)

	tests := []struct {
		dev, want string
	}{
		{"259:0", "wwid:eui.0025388b91b2c3d4"},
		{"259:1", "wwid:eui.0025388b91b2c3d4"}, // partition: its disk
		{"253:0", "wwid:eui.0025388b91b2c3d4"}, // LVM/dm-crypt on a partition
		{"8:1", "wwid:naa.5000c500a1b2c3d4"},
		{"9:0", "wwid:naa.5000c500a1b2c3d4+wwid:naa.5000c500a1b2c3d5"}, // md RAID, order-independent
		{"254:0", "serial:vol-0abc123"},
		{"254:16", "udev:QEMU_HARDDISK_QM00001"},
		{"254:32", ""}, // virtio disk without serial
		{"7:0", ""},    // loop
		{"1:1", ""},    // unknown device
		{"", ""},
		{"../../x", ""},
		{"8:", ""},
	}
	for _, tt := range tests {
		got, err := tr.fs().diskIdentity(tt.dev, 0)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("diskIdentity(%q) = %q, %v; want %q", tt.dev, got, err, tt.want)
		}
	}
}

func TestLinuxDiskIdentityLoop(t *testing.T) {
	// A slave that points back at its holder must not recurse forever.
	tr := newTree(t)
	dm := tr.disk("253:0", "virtual/block/dm-0", nil)
	tr.link(filepath.Join(dm, "slaves/dm-0"), "..")
	if got, err := tr.fs().diskIdentity("253:0", 0); err == nil {
		t.Errorf("diskIdentity on a cycle = %q, want an error", got)
	}
}

func TestDevNumbers(t *testing.T) {
	mk := func(major, minor uint64) uint64 {
		return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
	}
	for _, d := range [][2]uint64{{8, 1}, {259, 0}, {253, 3}, {254, 300}, {4095, 1 << 19}, {5000, 7}} {
		if maj, mnr := devNumbers(mk(d[0], d[1])); maj != d[0] || mnr != d[1] {
			t.Errorf("devNumbers(makedev(%d, %d)) = %d, %d", d[0], d[1], maj, mnr)
		}
	}
}

func TestRootMountSource(t *testing.T) {
	const info = `22 1 0:21 / / rw,relatime shared:1 - btrfs /dev/nvme0n1p2 rw,subvol=/@
23 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw
30 22 0:26 / /home rw - btrfs /dev/nvme0n1p2 rw
`
	if got := rootMountSource(info); got != "/dev/nvme0n1p2" {
		t.Errorf("rootMountSource = %q", got)
	}
	const container = `500 400 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/x
501 500 0:51 / /proc rw - proc proc rw
`
	if got := rootMountSource(container); got != "overlay" {
		t.Errorf("rootMountSource(container) = %q", got)
	}
	if got := rootMountSource("garbage\n - \n1 2 3\n"); got != "" {
		t.Errorf("rootMountSource(garbage) = %q", got)
	}
}
