//go:build linux

package fingerprint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// rootDisk returns the hardware identity of the disk holding "/".
func (l linuxFS) rootDisk(context.Context) (string, error) {
	dev, err := l.rootDevice()
	if err != nil {
		return "", err
	}
	return l.diskIdentity(dev, 0)
}

// rootDevice returns "major:minor" of the block device holding "/". File
// systems that report an anonymous device (btrfs) are looked up in
// mountinfo; overlay, tmpfs and network roots (containers) have none.
func (l linuxFS) rootDevice() (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/", &st); err != nil {
		return "", err
	}
	if maj, mnr := devNumbers(uint64(st.Dev)); maj != 0 {
		return fmt.Sprintf("%d:%d", maj, mnr), nil
	}
	info, err := readHead(filepath.Join(l.proc, "self/mountinfo"), 1<<20)
	if err != nil {
		return "", err
	}
	src := rootMountSource(string(info))
	if !strings.HasPrefix(src, "/dev/") {
		return "", errNotFound
	}
	if err := syscall.Stat(src, &st); err != nil {
		return "", err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFBLK {
		return "", errNotFound
	}
	maj, mnr := devNumbers(uint64(st.Rdev))
	return fmt.Sprintf("%d:%d", maj, mnr), nil
}

// devNumbers splits a Linux dev_t into major and minor numbers.
func devNumbers(dev uint64) (major, minor uint64) {
	major = (dev>>8)&0x00000fff | (dev>>32)&0xfffff000
	minor = dev&0x000000ff | (dev>>12)&0xffffff00
	return major, minor
}

// rootMountSource returns the source of the last mount on "/" in a
// /proc/self/mountinfo text (the field after the file system type).
func rootMountSource(info string) string {
	src := ""
	for _, line := range strings.Split(info, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) >= 5 && f[4] == "/" && len(g) >= 2 {
			src = g[1]
		}
	}
	return src
}

// diskIdentity returns the identity of block device dev ("major:minor"): for
// a partition that of its disk, for a stacked device (LVM, dm-crypt, md
// RAID) those of the devices under it, joined by "+".
func (l linuxFS) diskIdentity(dev string, depth int) (string, error) {
	if maj, mnr, ok := strings.Cut(dev, ":"); !ok || !digits(maj) || !digits(mnr) {
		return "", errNotFound
	}
	link := filepath.Join(l.sys, "dev/block", dev)
	dir := link
	if target, err := os.Readlink(link); err == nil {
		dir = filepath.Join(filepath.Dir(link), target)
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		dir = filepath.Dir(dir)
	}

	if slaves, _ := os.ReadDir(filepath.Join(dir, "slaves")); len(slaves) > 0 {
		if depth >= 4 {
			return "", errNotFound
		}
		var ids []string
		for _, s := range slaves {
			sub := readTrim(filepath.Join(dir, "slaves", s.Name(), "dev"))
			if id, err := l.diskIdentity(sub, depth+1); err == nil {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return "", errNotFound
		}
		slices.Sort(ids)
		return strings.Join(slices.Compact(ids), "+"), nil
	}

	for _, c := range [...]struct{ kind, rel string }{
		{"wwid", "wwid"},            // NVMe namespace
		{"wwid", "device/wwid"},     // SCSI, SATA through libata
		{"serial", "device/serial"}, // NVMe controller, some SCSI
		{"serial", "serial"},        // virtio-blk
	} {
		if v := readTrim(filepath.Join(dir, c.rel)); v != "" {
			return c.kind + ":" + v, nil
		}
	}
	// udev's database is a plain file; reading it starts no process.
	if num := readTrim(filepath.Join(dir, "dev")); num != "" {
		b, _ := readHead(filepath.Join(l.run, "udev/data", "b"+num), 64<<10)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "E:ID_SERIAL="); ok && strings.TrimSpace(v) != "" {
				return "udev:" + strings.TrimSpace(v), nil
			}
		}
	}
	return "", errNotFound
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
