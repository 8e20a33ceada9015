package grace

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"time"
)

// The machine clock file keeps one high-water mark per product on a
// machine, beside the state files: the latest wall-clock time any licence
// of the product has seen there. A Store reads it when it opens and folds
// it into its own mark, so a licence new to the machine (or one whose file
// was deleted or damaged) starts from the machine's mark rather than from
// nothing: an old, expired licence does not run again with the clock set
// back just because this machine never used it. Every write of a state
// file raises the machine's mark; a newly stored lease, an answer of the
// control plane, sets it to the licence's re-anchored mark (its receipt,
// on the local clock), but never below its signed iat less
// [Policy.MaxBehind]: that is how a mark pushed into the future by a
// mis-set clock comes back, and clocks set back before answers cannot
// walk it down. Any other write raises it at most to the wall clock as
// the Store last observed it, so a mark carried from a clock once set
// ahead and since corrected does not spread to the product's other
// licences. The file is sealed like a state file (for this product and
// machine); one that cannot be read counts as no mark. Writing it is best
// effort: a state write never fails because of it.
const clockLicense = "\x00machine clock"

// clockFile is the machine clock file of one product in one directory.
type clockFile struct {
	path, lockPath, tmpPrefix string
	seal                      *sealer
}

func newClockFile(dir, app, machine string) clockFile {
	h := sha256.New()
	for _, s := range []string{"licensekit/grace/v1 clock", app} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	name := "clock-" + hex.EncodeToString(h.Sum(nil)[:16])
	return clockFile{
		path:      filepath.Join(dir, name+".state"),
		lockPath:  filepath.Join(dir, name+".lock"),
		tmpPrefix: name + ".tmp-",
		seal:      newSealer(app, clockLicense, machine),
	}
}

// readMark returns the machine's mark, or the zero time when the file is
// missing or unreadable.
func (s *Store) readMark() time.Time {
	b, _, err := readStateFile(s.fs, s.clock.path)
	if err != nil {
		return time.Time{}
	}
	st, err := s.clock.seal.decode(b)
	if err != nil || st.Lease != nil {
		return time.Time{}
	}
	return st.HighWater
}

// raiseMark records hw as the machine's mark if it is later than the one
// stored, or in any case when reset is set. Callers hold the state file's
// lock; the clock file has its own, always taken second.
func (s *Store) raiseMark(hw time.Time, reset bool) {
	hw = wall(hw)
	if hw.IsZero() {
		return
	}
	unlock, err := s.fs.Lock(s.clock.lockPath, s.lockTimeout)
	if err != nil {
		return
	}
	defer unlock()
	cur := s.readMark()
	if hw.Equal(cur) || (!reset && !hw.After(cur)) {
		return
	}
	b, err := s.clock.seal.encode(State{HighWater: hw})
	if err != nil {
		return
	}
	_ = writeAtomic(s.fs, s.dir, s.clock.path, s.clock.tmpPrefix+"*", b)
}
