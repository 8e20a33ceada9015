package fingerprint

import (
	"crypto/subtle"
	"fmt"
)

// maxChanged is how many non-essential components may differ under the
// tolerant policy.
const maxChanged = 1

// Comparison is the component-by-component result of [Fingerprint.Compare].
type Comparison struct {
	// SameMachine reports whether the machine components are equal.
	SameMachine bool
	// Changed lists the non-essential components that differ, in wire order.
	// A component present on one side and missing on the other counts as
	// changed; one missing on both sides does not. All components are keyed
	// with the machine id, so when the machines differ every present
	// component differs too.
	Changed []Component
}

// Compare compares f with a recorded fingerprint string component by
// component, for diagnostics such as "the NIC changed". The error matches
// [ErrMalformed] or [ErrVersion] when recorded cannot be compared, including
// when f is the zero Fingerprint.
func (f Fingerprint) Compare(recorded string) (Comparison, error) {
	same, changed, err := f.compare(recorded)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{SameMachine: same}
	for i := 1; i < numComponents; i++ {
		if changed&(1<<i) != 0 {
			c.Changed = append(c.Changed, components[i])
		}
	}
	return c, nil
}

// Matches reports whether recorded, a fingerprint string stored earlier (for
// example a lease's fpr), denotes this machine under f's policy.
//
// The tolerant policy (the default) requires the machine components to be
// equal and allows at most one other component to differ: a NIC or RAM swap,
// a VM resize or a new root disk keeps the machine, two such changes at once
// do not. The exact policy ([WithExactMatch]) requires every component to be
// equal. Anything that is not a well-formed fingerprint of the same version,
// the empty string included, never matches; Matches never panics.
func (f Fingerprint) Matches(recorded string) bool {
	same, changed, err := f.compare(recorded)
	if err != nil || !same {
		return false
	}
	n := 0
	for ; changed != 0; changed &= changed - 1 {
		n++
	}
	if f.exact {
		return n == 0
	}
	return n <= maxChanged
}

// compare decodes recorded and returns whether the machine components agree
// and a bitmask of the other components that differ. Slots are compared in
// constant time and all of them are always compared.
func (f Fingerprint) compare(recorded string) (same bool, changed uint8, err error) {
	if f.s == "" {
		return false, 0, fmt.Errorf("%w: zero Fingerprint", ErrMalformed)
	}
	var r blob
	if err := decode(recorded, &r); err != nil {
		return false, 0, err
	}
	same = subtle.ConstantTimeCompare(f.b.slot(0), r.slot(0)) == 1
	for i := 1; i < numComponents; i++ {
		if f.b.has(i) != r.has(i) || subtle.ConstantTimeCompare(f.b.slot(i), r.slot(i)) != 1 {
			changed |= 1 << i
		}
	}
	return same, changed, nil
}
