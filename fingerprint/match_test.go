package fingerprint_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/fingerprint"
)

func TestMatchPolicy(t *testing.T) {
	const (
		cpu  = fingerprint.ComponentCPU
		size = fingerprint.ComponentSize
		nic  = fingerprint.ComponentNIC
		disk = fingerprint.ComponentDisk
	)
	tests := []struct {
		name     string
		change   func(m *machine)
		tolerant bool // Matches under the default policy
		exact    bool // Matches under WithExactMatch
		changed  []fingerprint.Component
	}{
		{"identical", func(*machine) {}, true, true, nil},
		{"MACs listed in another order", func(m *machine) { slices.Reverse(m.macs) }, true, true, nil},
		{"random and virtual MACs come and go", func(m *machine) {
			m.macs = append(m.macs, "02:42:ac:11:00:02", "fe:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb")
		}, true, true, nil},
		{"model whitespace", func(m *machine) { m.model = "  Intel(R)  Xeon(R) Gold 6338 CPU @ 2.00GHz " }, true, true, nil},
		{"memory drifts with a kernel update", func(m *machine) { m.mem -= 300 << 20 }, true, true, nil},

		{"NIC swapped", func(m *machine) { m.macs[1] = "00:1b:21:aa:bb:cc" }, true, false, []fingerprint.Component{nic}},
		{"NIC added", func(m *machine) { m.macs = append(m.macs, "00:1b:21:aa:bb:cc") }, true, false, []fingerprint.Component{nic}},
		{"NICs unreadable", func(m *machine) { m.macs = nil }, true, false, []fingerprint.Component{nic}},
		{"RAM upgrade", func(m *machine) { m.mem = 512 << 30 }, true, false, []fingerprint.Component{size}},
		{"VM resize", func(m *machine) { m.cpus, m.mem = 96, 384<<30 }, true, false, []fingerprint.Component{size}},
		{"CPU replaced", func(m *machine) { m.model = "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz" }, true, false, []fingerprint.Component{cpu}},
		{"root disk cloned to a new SSD", func(m *machine) { m.disk = "wwid:eui.0025388b91b2ffff" }, true, false, []fingerprint.Component{disk}},
		{"root disk now unreadable", func(m *machine) { m.disk = "" }, true, false, []fingerprint.Component{disk}},

		{"NIC and RAM", func(m *machine) { m.macs[0] = "00:1b:21:aa:bb:cc"; m.mem = 512 << 30 }, false, false, []fingerprint.Component{size, nic}},
		{"CPU and disk", func(m *machine) { m.model = "AMD EPYC 7763"; m.disk = "serial:x" }, false, false, []fingerprint.Component{cpu, disk}},
		{"new instance type", func(m *machine) { m.model = "AMD EPYC 7763"; m.cpus = 32 }, false, false, []fingerprint.Component{cpu, size}},
		{"all hardware", func(m *machine) {
			m.model, m.cpus, m.mem, m.macs, m.disk = "other", 2, 4<<30, []string{"00:1b:21:aa:bb:cc"}, "serial:y"
		}, false, false, []fingerprint.Component{cpu, size, nic, disk}},

		{"machine id changed", func(m *machine) { m.id = "ffffffffffffffffffffffffffffffff" }, false, false, []fingerprint.Component{cpu, size, nic, disk}},
	}
	recorded := compute(t, server(), app).String()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := server()
			m.macs = slices.Clone(m.macs)
			tt.change(&m)
			if got := compute(t, m, app).Matches(recorded); got != tt.tolerant {
				t.Errorf("tolerant Matches = %v, want %v", got, tt.tolerant)
			}
			if got := compute(t, m, app, fingerprint.WithExactMatch()).Matches(recorded); got != tt.exact {
				t.Errorf("exact Matches = %v, want %v", got, tt.exact)
			}
			c, err := compute(t, m, app).Compare(recorded)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Changed, tt.changed) {
				t.Errorf("Changed = %v, want %v", c.Changed, tt.changed)
			}
		})
	}
}

func TestMatchSparse(t *testing.T) {
	// Components missing on both sides carry no information and do not count.
	a := compute(t, machine{id: "id-1"}, app)
	if !a.Matches(compute(t, machine{id: "id-1"}, app).String()) {
		t.Error("two machine-only fingerprints of one machine do not match")
	}
	if a.Matches(compute(t, machine{id: "id-2"}, app).String()) {
		t.Error("machine-only fingerprints of two machines match")
	}
	// Two components appearing at once is two changes.
	m := machine{id: "id-1", model: "cpu", disk: "serial:z"}
	if a.Matches(compute(t, m, app).String()) {
		t.Error("two components appearing still matched")
	}
}

// blobString encodes raw bytes in the wire format, valid or not.
func blobString(b []byte) string { return "fp1." + base64.RawURLEncoding.EncodeToString(b) }

func TestGarbageNeverMatches(t *testing.T) {
	fp := compute(t, server(), app)
	valid := fp.String()
	raw, err := base64.RawURLEncoding.DecodeString(valid[4:])
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(b []byte)) string {
		b := slices.Clone(raw)
		f(b)
		return blobString(b)
	}
	tests := []struct {
		name, recorded string
		err            error
	}{
		{"empty", "", fingerprint.ErrMalformed},
		{"prefix only", "fp1.", fingerprint.ErrMalformed},
		{"huge", strings.Repeat("A", 1<<20), fingerprint.ErrMalformed},
		{"huge with prefix", "fp1." + strings.Repeat("A", 1<<20), fingerprint.ErrMalformed},
		{"next version", "fp2." + valid[4:], fingerprint.ErrVersion},
		{"far version", "fp10." + valid[4:], fingerprint.ErrVersion},
		{"upper-case prefix", "FP1." + valid[4:], fingerprint.ErrMalformed},
		{"too short", valid[:len(valid)-1], fingerprint.ErrMalformed},
		{"too long", valid + "A", fingerprint.ErrMalformed},
		{"trailing newline", valid + "\n", fingerprint.ErrMalformed},
		{"leading space", " " + valid[:len(valid)-1], fingerprint.ErrMalformed},
		{"standard base64", valid[:10] + "+" + valid[11:], fingerprint.ErrMalformed},
		{"padding", valid[:len(valid)-1] + "=", fingerprint.ErrMalformed},
		{"non-ASCII", valid[:len(valid)-2] + "é", fingerprint.ErrMalformed},
		{"NUL", valid[:len(valid)-1] + "\x00", fingerprint.ErrMalformed},
		{"hex instead", "fp1." + strings.Repeat("ab", 32), fingerprint.ErrMalformed},
		{"reserved bit", with(func(b []byte) { b[0] |= 0x80 }), fingerprint.ErrMalformed},
		{"no machine", with(func(b []byte) { b[0] &^= 1 }), fingerprint.ErrMalformed},
		{"absent component with data", with(func(b []byte) { b[0] &^= 1 << 4 }), fingerprint.ErrMalformed},
		{"all zero", blobString(make([]byte, 48)), fingerprint.ErrMalformed},
		{"other app", compute(t, server(), "another-product").String(), nil},
		{"machine slot flipped", with(func(b []byte) { b[3] ^= 1 }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fp.Matches(tt.recorded) {
				t.Error("matched")
			}
			_, perr := fingerprint.Parse(tt.recorded)
			_, cerr := fp.Compare(tt.recorded)
			if tt.err == nil {
				if perr != nil || cerr != nil {
					t.Errorf("Parse: %v, Compare: %v; want no error", perr, cerr)
				}
				return
			}
			if !errors.Is(perr, tt.err) || !errors.Is(cerr, tt.err) {
				t.Errorf("Parse: %v, Compare: %v; want %v", perr, cerr, tt.err)
			}
			if !strings.HasPrefix(perr.Error(), "fingerprint: ") {
				t.Errorf("error %q lacks the package prefix", perr)
			}
		})
	}

	var zero fingerprint.Fingerprint
	if zero.Matches(valid) || zero.Matches("") || zero.String() != "" || zero.Components() != nil {
		t.Error("the zero Fingerprint must match nothing and be empty")
	}
	if _, err := zero.Compare(valid); !errors.Is(err, fingerprint.ErrMalformed) {
		t.Errorf("zero.Compare = %v", err)
	}
}

func TestParse(t *testing.T) {
	fp := compute(t, server(), app)
	p, err := fingerprint.Parse(fp.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != fp.String() || !slices.Equal(p.Components(), fp.Components()) {
		t.Error("Parse does not round-trip")
	}
	// A control plane compares a heartbeat's fingerprint with the binding.
	m := server()
	m.macs = []string{"00:1b:21:aa:bb:cc"}
	if !p.Matches(compute(t, m, app).String()) {
		t.Error("a parsed fingerprint is not tolerant")
	}
}
