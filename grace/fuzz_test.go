package grace_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/licensekit/licensekit/grace"
)

// FuzzLoad feeds arbitrary bytes to the reader as the state file. It must
// never panic, and never yield a state unless the bytes are exactly what
// Save writes for it; on any error other than ErrLeaseRejected the state
// is the zero State (no lease, no grace).
func FuzzLoad(f *testing.F) {
	seedDir := f.TempDir()
	seed, err := grace.Open(testOptions(seedDir))
	if err != nil {
		f.Fatal(err)
	}
	floored := fullState()
	floored.Revoked, floored.Floor = true, t0.Add(time.Hour) // a refusal after the lease
	for _, st := range []grace.State{fullState(), {}, {Revoked: true, ClockTampered: true, HighWater: t0}, floored} {
		if err := seed.Save(st); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(seed.Path())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(append(bytes.Clone(b), 0))
		flipped := bytes.Clone(b)
		flipped[len(b)-1] ^= 1
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Add([]byte("LKGS"))
	f.Add([]byte("LKGS\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"))
	f.Add([]byte(`{"lease":"fake.e30.AAAA","hw":"9999-12-31T23:59:59Z"}`))

	dir := f.TempDir()
	s, err := grace.Open(testOptions(dir))
	if err != nil {
		f.Fatal(err)
	}
	// The store has read the (missing) file once, as a product does at
	// start: later reads report the file as it is, with no charge for
	// an unclean stop (see TestUncleanStopIsCharged).
	if _, err := s.Load(); !errors.Is(err, grace.ErrNoState) {
		f.Fatal(err)
	}
	known := []error{grace.ErrNoState, grace.ErrCorrupt, grace.ErrVersion, grace.ErrWrongMachine, grace.ErrLeaseRejected}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = os.Remove(s.Path())
		if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := s.Load()
		if err != nil {
			matched := false
			for _, k := range known {
				matched = matched || errors.Is(err, k)
			}
			if !matched {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			if !errors.Is(err, grace.ErrLeaseRejected) && (st.Lease != nil || st != (grace.State{})) {
				t.Fatalf("error %v came with a state: %+v", err, st)
			}
			if st.Lease != nil {
				t.Fatalf("rejected lease returned")
			}
			return
		}
		// Accepted: it must be exactly the file Save writes for st. The
		// writer is a fresh Store in an empty directory each time: a Store
		// keeps sticky facts (Revoked, ClockTampered) it has seen, so one
		// reused across inputs would write what an earlier input said.
		canonDir := filepath.Join(dir, "canon")
		if err := os.RemoveAll(canonDir); err != nil {
			t.Fatal(err)
		}
		canon, err := grace.Open(testOptions(canonDir))
		if err != nil {
			t.Fatal(err)
		}
		if err := canon.Save(st); err != nil {
			t.Fatalf("accepted state does not save: %v", err)
		}
		want, err := os.ReadFile(canon.Path())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, data) {
			// The same state as a clean stop leaves it (Flush clears the
			// marker of a running writer).
			if err := canon.Flush(); err != nil {
				t.Fatal(err)
			}
			if want, err = os.ReadFile(canon.Path()); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(want, data) {
			t.Fatalf("accepted a file Save would not write:\n%q\n%q", data, want)
		}
	})
}
