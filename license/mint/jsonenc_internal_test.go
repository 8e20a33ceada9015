package mint

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

var jsonStringSeeds = []string{
	"", "plain", `quote " and backslash \`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
	"ü Ω 漢字 😀", "\u2028\u2029", "<script>&amp;</script>", "bad \xff utf8", "\xc3", "\xed\xa0\x80",
	"\ufffd", "/slash/", "\b\f",
}

// checkString checks appendString against encoding/json: the output is
// valid JSON, parses back (with encoding/json) to what encoding/json's own
// encoding of s parses to, and to s itself when s is valid UTF-8.
func checkString(t *testing.T, s string) {
	t.Helper()
	out := appendString([]byte("x"), s)[1:]
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("appendString(%q) = %s: not a JSON string: %v", s, out, err)
	}
	ref, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("appendString(%q) = %s parses to %q; encoding/json's %s to %q", s, out, got, ref, want)
	}
	if utf8.ValidString(s) && got != s {
		t.Fatalf("appendString(%q) = %s parses to %q", s, out, got)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range jsonStringSeeds {
		checkString(t, s)
	}
	for c := range 256 {
		checkString(t, string([]byte{byte(c)}))
	}
	if got := string(appendString(nil, "a\"b\\c\n\x01")); got != `"a\"b\\c\n\u0001"` {
		t.Errorf("escapes: %s", got)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s)
	}
	f.Fuzz(checkString)
}
