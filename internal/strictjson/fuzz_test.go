package strictjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// FuzzReader compares the reader with encoding/json. What we accept,
// encoding/json must accept; what encoding/json accepts we must accept too,
// unless it breaks one of our documented extra rules — each computed here
// independently of the reader: a duplicate member name (after unescaping),
// invalid UTF-8, a lone surrogate escape, nesting deeper than MaxDepth, or
// an object of more than 4096 members.
//
//	go test -run='^$' -fuzz='^FuzzReader$' -fuzztime=45s ./internal/strictjson/
func FuzzReader(f *testing.F) {
	seeds := []string{
		`{}`, `[]`, `0`, `-0`, `1.5e-7`, `"a"`, `true`, `false`, `null`,
		` {"a" : [1, 2, {"b":null}], "c": "\u00e9\ud83d\ude00\n"} `,
		`{"exp":1,"\u0065xp":2}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `[{"a":1},{"a":1}]`,
		`{"iss":"acme","aud":["a","b"],"exp":1990000000,"metadata":{"k":"v"}}`,
		strings.Repeat("[", 32) + strings.Repeat("]", 32),
		strings.Repeat("[", 33) + strings.Repeat("]", 33),
		strings.Repeat(`{"a":`, 32) + "1" + strings.Repeat("}", 32),
		"\"\xff\"", "\"\xed\xa0\x80\"", `"\ud800"`, `"\udc00\ud800"`, "\"\x01\"",
		`01`, `1.`, `-`, `+1`, `.5`, `1e`, `{} {}`, `[1,]`, `{"a":1,}`, "\xef\xbb\xbf{}",
		`tru`, `nulll`, `"\u12"`, `{"a"}`, `[`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours := skipAll(string(data))
		r := strictjson.NewReader(data)
		other := r.Skip()
		if other == nil {
			other = r.End()
		}
		if (ours == nil) != (other == nil) {
			t.Fatalf("NewStringReader: %v, NewReader: %v", ours, other)
		}
		if ours != nil && !errors.Is(ours, strictjson.ErrSyntax) && !errors.Is(ours, strictjson.ErrDuplicate) && !errors.Is(ours, strictjson.ErrDepth) {
			t.Fatalf("Skip returned %v, not one of ErrSyntax, ErrDuplicate, ErrDepth", ours)
		}
		std := json.Valid(data)
		if ours == nil && !std {
			t.Fatalf("accepted what encoding/json refuses: %q", data)
		}
		if std && ours != nil {
			if extraRule(data) == "" {
				t.Fatalf("refused valid JSON %q that breaks none of our rules: %v", data, ours)
			}
		}
		if std && ours == nil && extraRule(data) != "" {
			t.Fatalf("accepted %q, which breaks rule %q", data, extraRule(data))
		}

		// The typed reads, driven by Peek, never panic and agree with Skip:
		// on a document Skip accepts they can only fail where Int meets a
		// number that is not an int64.
		typed := walkTyped(strictjson.NewReader(data))
		if typed == nil && ours != nil {
			t.Fatalf("typed walk accepted what Skip refuses (%v): %q", ours, data)
		}
		if ours == nil && typed != nil && !errors.Is(typed, strictjson.ErrType) {
			t.Fatalf("typed walk of an accepted document: %v", typed)
		}
	})
}

// walkTyped reads a document with the typed methods, as the licence code
// does, and then checks that nothing follows.
func walkTyped(r *strictjson.Reader) error {
	var walk func() error
	walk = func() error {
		switch r.Peek() {
		case strictjson.Object:
			return r.Object(func(string) error { return walk() })
		case strictjson.Array:
			return r.Array(walk)
		case strictjson.String:
			_, err := r.String()
			return err
		case strictjson.Number:
			_, err := r.Int()
			return err
		}
		return r.Skip()
	}
	if err := walk(); err != nil {
		return err
	}
	return r.End()
}

// extraRule names the first of our extra rules that a document valid for
// encoding/json breaks, or returns "".
func extraRule(data []byte) string {
	if !utf8.Valid(data) {
		return "invalid UTF-8"
	}
	if hasLoneSurrogate(data) {
		return "lone surrogate"
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "encoding/json cannot decode: " + err.Error()
	}
	if depth(v) > strictjson.MaxDepth {
		return "depth"
	}
	dup, most := objectStats(data)
	if dup {
		return "duplicate"
	}
	if most > 4096 {
		return "members"
	}
	return ""
}

// depth is the nesting depth of a decoded value: 0 for a scalar.
func depth(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			d = max(d, depth(x))
		}
	case []any:
		for _, x := range v {
			d = max(d, depth(x))
		}
	default:
		return 0
	}
	return d + 1
}

// objectStats walks the tokens of encoding/json and reports whether an
// object repeats a (decoded) member name, and the most members of any
// object.
func objectStats(doc []byte) (dup bool, most int) {
	d := json.NewDecoder(bytes.NewReader(doc))
	type frame struct {
		obj, wantName bool
		seen          map[string]bool
	}
	var stack []*frame
	for {
		tok, err := d.Token()
		if err == io.EOF || err != nil {
			return dup, most
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj {
			if top.wantName {
				if s, ok := tok.(string); ok {
					dup = dup || top.seen[s]
					top.seen[s] = true
					most = max(most, len(top.seen))
					top.wantName = false
					continue
				}
			} else {
				top.wantName = true // tok is, or opens, the member's value
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, wantName: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// hasLoneSurrogate scans the strings of a valid JSON document for a \u
// escape of a surrogate that is not a high one followed by a low one.
func hasLoneSurrogate(doc []byte) bool {
	hex := func(b []byte) (rune, bool) {
		if len(b) < 4 {
			return 0, false
		}
		var v rune
		for _, c := range b[:4] {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				v = v<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return v, true
	}
	in := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\':
			i++
			if i >= len(doc) || doc[i] != 'u' {
				continue
			}
			v, _ := hex(doc[i+1:])
			i += 4
			switch {
			case 0xDC00 <= v && v <= 0xDFFF:
				return true
			case 0xD800 <= v && v <= 0xDBFF:
				if i+2 >= len(doc) || doc[i+1] != '\\' || doc[i+2] != 'u' {
					return true
				}
				lo, _ := hex(doc[i+3:])
				if lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 6
			}
		}
	}
	return false
}
