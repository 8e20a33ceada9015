// Package fingerprint identifies the machine a licence is activated on.
//
// [Compute] returns a [Fingerprint] for an app id. Its [Fingerprint.String]
// is what activation sends and what a lease's fpr claim holds;
// [Fingerprint.Matches] decides whether a recorded fingerprint is still this
// machine. The fingerprint decides whether a paying customer keeps running
// after a reboot, a NIC swap, a container restart or a VM resize, and whether
// a copied appliance image runs twice, so it is built from facts that survive
// the first list and differ across the second.
//
// # What is collected
//
// Five components, each hashed on its own so that two fingerprints can be
// compared component by component:
//
//   - machine: the OS machine id (/etc/machine-id, falling back to
//     /var/lib/dbus/machine-id, on Linux; IOPlatformUUID on macOS; MachineGuid
//     on Windows), or the override that replaces it. Essential.
//   - cpu: the CPU model name.
//   - size: the logical CPU count of the machine (not of the process's cgroup
//     or affinity) and the total memory, rounded up coarsely so that the
//     kernel's varying reservations do not show. One component, so resizing a
//     VM is one change.
//   - nic: the set of permanent MAC addresses of physical Ethernet and Wi-Fi
//     NICs, sorted, so that interface order and naming do not matter.
//   - disk: the hardware identity (WWID or serial) of the disk holding the
//     root file system, through partitions, LVM, dm-crypt and md RAID.
//
// A component that cannot be read (a container has no physical NIC, a
// virtio disk may have no serial) is left out: the fingerprint gets smaller,
// Compute does not fail. Only the machine id is required; without it and
// without an override Compute fails with [ErrNoMachineID] rather than return
// a fingerprint made of nothing.
//
// # What is never collected
//
// IP addresses, hostnames, user names, uptime, boot time or boot id,
// container ids, process counts, free memory, anything else that changes
// across reboots or container restarts. Among NICs: loopback, veth, bridges,
// docker0, tun/tap, bonds, VLANs, macvlan, WireGuard and every other virtual
// interface (on Linux: no device link, or under /sys/devices/virtual), USB
// NICs (docks and dongles come and go), SR-IOV virtual functions, InfiniBand,
// and any address the kernel did not read from the hardware
// (addr_assign_type random, stolen or set) or that is locally administered or
// multicast. Root-only facts such as DMI serials are not read either, so the
// fingerprint does not depend on the user the product runs as.
//
// # Privacy
//
// Nothing raw leaves the machine. A per-app key is derived as
// HMAC-SHA256(machine id, label || app id), the construction of
// machineid.ProtectedID, and every component, the machine one included, is
// an HMAC under that key, truncated (15 bytes for the machine, 8 for the
// others). Because the key depends on the machine id, whoever holds a
// fingerprint (the vendor, a lease reader) cannot test guesses such as a MAC
// address or a CPU model against it; because it depends on the app id, two
// products on one machine get fingerprints that share nothing.
// [Fingerprint.MachineHash] is a further derivation that is never put on the
// wire, fit to key local state. An override is keyed the same way, but a
// guessable override (a pod name) makes the key guessable too.
//
// # Wire format
//
// "fp1." followed by 64 base64url characters (48 bytes: a presence bitmap and
// the five truncated hashes, absent ones zero). Every fingerprint has exactly
// one encoding. Strings of another length, alphabet or version never match;
// [Parse] says why ([ErrMalformed], [ErrVersion]).
//
// # Matching policy
//
// By default a recorded fingerprint matches when the machine components are
// equal and at most one other component differs, where a component present on
// one side and missing on the other counts as different. The machine id is
// what names the installation; the hardware components are there to tell
// apart the copies of a cloned image, which share a machine id but not their
// NICs and disks. Tolerating one change keeps a customer running through an
// ordinary repair or upgrade (a NIC, RAM, a VM resize, a root disk cloned to
// a new SSD); refusing two keeps a cloned image on other hardware from
// passing as the original. [WithExactMatch] demands that every component be
// equal, for products that prefer a rebind to any tolerance.
//
// Tolerance only works if changes do not accumulate: a control plane should
// store the newest fingerprint that matched, so a NIC swap this year and a
// RAM upgrade next year are each one change.
//
// # Containers and clusters
//
// A container usually has no machine id of its own, or one baked into its
// image and shared by every copy. Give it a stable identity: set
// LICENSEKIT_MACHINE_ID ([EnvMachineID]) or pass [WithMachineID], for example
// a UUID kept with a StatefulSet pod's volume or Secret. It replaces the
// machine id, takes part in the keying exactly like it and is never sent raw.
// To bind to the host instead, mount the host's /etc/machine-id read-only;
// it is read before the D-Bus copy an image may carry. Appliance images
// should ship an empty /etc/machine-id so that each copy generates its own.
//
// # Speed and caching
//
// The first Compute in a process reads the machine (a few dozen small reads
// of /etc, /proc and /sys and one sysinfo call on Linux, well under a
// millisecond) and never starts a process on Linux or Windows; gopsutil's
// slow paths (host.Info counts processes) are not used. What it read, and
// the fingerprints derived from it, stay cached in a mutex-guarded cache for
// the life of the process, so later calls cost a map lookup. This is the
// package's only package-level state: facts about the machine the process
// runs on, the same for every caller. [WithRefresh] re-reads them;
// [WithSources] bypasses the cache altogether, which keeps tests hermetic.
//
// # Platforms
//
// Linux is first-class: everything above is read directly from the pseudo
// file systems. macOS reads the IOPlatformUUID through gopsutil, which runs
// ioreg(8) once per process because nothing else can read it without cgo
// (set LICENSEKIT_MACHINE_ID to avoid that), CPU facts through gopsutil's
// sysctls and NICs named en*; it has no disk component. Windows reads
// MachineGuid through machineid, the CPU model from the registry, CPU count
// and memory through gopsutil, NICs with virtual adapters dropped by name; it
// has no disk component. Other systems use what machineid and gopsutil give.
package fingerprint
