package fingerprint_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/fingerprint"
)

// FuzzMatches feeds arbitrary recorded strings to Matches, Compare and Parse:
// none may panic, they must agree, and only a string that parses may match.
func FuzzMatches(f *testing.F) {
	fp := compute(f, server(), app)
	nic := server()
	nic.macs = []string{"00:1b:21:aa:bb:cc"}
	for _, s := range []string{
		"",
		"fp1.",
		fp.String(),
		compute(f, nic, app).String(),
		compute(f, server(), "other").String(),
		compute(f, machine{id: "only-an-id"}, app).String(),
		"fp2." + fp.String()[4:],
		"fp1." + strings.Repeat("A", 64),
		"fp1." + strings.Repeat("_", 64),
		blobString(append([]byte{0xff}, make([]byte, 47)...)),
		strings.Repeat("fp1.", 17),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, recorded string) { checkMatches(t, fp, recorded) })
}

// FuzzMatchesBlob feeds arbitrary bytes in the wire format, to reach the
// bitmap and slot checks that random strings rarely get past base64 to.
func FuzzMatchesBlob(f *testing.F) {
	fp := compute(f, server(), app)
	raw, err := base64.RawURLEncoding.DecodeString(fp.String()[4:])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(make([]byte, 48))
	f.Add(append([]byte{0x01}, raw[1:]...))
	f.Add(append([]byte{0x1f}, make([]byte, 47)...))
	f.Add(raw[:47])
	f.Fuzz(func(t *testing.T, b []byte) { checkMatches(t, fp, blobString(b)) })
}

// checkMatches checks that Matches, Compare and Parse agree on recorded and
// that only a string that parses may match.
func checkMatches(t *testing.T, fp fingerprint.Fingerprint, recorded string) {
	matched := fp.Matches(recorded)
	c, cerr := fp.Compare(recorded)
	p, perr := fingerprint.Parse(recorded)
	if (cerr == nil) != (perr == nil) {
		t.Fatalf("Compare error %v but Parse error %v", cerr, perr)
	}
	if perr != nil {
		if matched {
			t.Fatal("an unparsable string matched")
		}
		return
	}
	if p.String() != recorded {
		t.Fatalf("Parse(%q).String() = %q", recorded, p.String())
	}
	if want := c.SameMachine && len(c.Changed) <= 1; matched != want {
		t.Fatalf("Matches = %v, Compare = %+v", matched, c)
	}
	if p.Matches(fp.String()) != matched {
		t.Fatal("Matches is not symmetric")
	}
}
