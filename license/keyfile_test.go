package license_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

func TestVerifyKeyFileSlots(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	stranger := licensetest.NewIssuer(t) // keys the verifier does not know
	v := iss.Verifier(license.WithFingerprint(fxThisMachine))
	P, S := license.SlotPrimary, license.SlotSecondary
	mint := func(slot string, opts ...licensetest.MintOption) string {
		return iss.Mint(append([]licensetest.MintOption{licensetest.Slot(slot)}, opts...)...)
	}
	// The file copies aud, sub and tid from its first token; when that is
	// not a licence, say them explicitly.
	fileClaims := func(opts ...licensetest.KeyFileOption) []licensetest.KeyFileOption {
		return append(opts, licensetest.FileField("aud", licensetest.DefaultAudience),
			licensetest.FileField("sub", licensetest.DefaultSubject), licensetest.FileField("tid", licensetest.DefaultTenant))
	}
	expired := licensetest.ExpiresIn(-time.Hour)
	tamper := func(tok string) string { return tok[:len(tok)-4] + "AAAA" }

	for _, tc := range []struct {
		name     string
		opts     []licensetest.KeyFileOption
		wantSlot string // "" when an error is expected
		want     *license.Error
	}{
		{"both valid: primary carries", nil, P, nil},
		{"only primary", []licensetest.KeyFileOption{licensetest.Secondary("")}, P, nil},
		{"only secondary", []licensetest.KeyFileOption{licensetest.Primary("")}, S, nil},
		{"primary expired: secondary carries", []licensetest.KeyFileOption{licensetest.Primary(mint(P, expired))}, S, nil},
		{"primary not yet valid: secondary carries", []licensetest.KeyFileOption{licensetest.Primary(mint(P, licensetest.NotBefore(time.Now().Add(time.Hour))))}, S, nil},
		{"primary signature broken: secondary carries", []licensetest.KeyFileOption{licensetest.Primary(tamper(mint(P)))}, S, nil},
		{"primary by an unknown key: secondary carries", []licensetest.KeyFileOption{licensetest.Primary(stranger.Mint(licensetest.Slot(P)))}, S, nil},
		{"primary not a token: secondary carries", fileClaims(licensetest.Primary("garbage")), S, nil},
		{"primary a lease: secondary carries", fileClaims(licensetest.Primary(iss.MintLease())), S, nil},
		{"primary bound to another machine: secondary carries", []licensetest.KeyFileOption{licensetest.Primary(mint(P, licensetest.Fingerprint("fp_other")))}, S, nil},
		{"primary expired and for another tenant: not cross-checked, secondary carries",
			[]licensetest.KeyFileOption{licensetest.Primary(mint(P, expired, licensetest.Tenant("ten_other"))), licensetest.FileField("tid", licensetest.DefaultTenant)}, S, nil},
		{"tokens without slot claims: position decides", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.Omit("slot"))}, P, nil},
		{"secondary without slot claim carries as secondary", []licensetest.KeyFileOption{licensetest.Primary(""), licensetest.Tokens(licensetest.Omit("slot"))}, S, nil},
		{"secondary broken while primary is valid: primary carries", []licensetest.KeyFileOption{licensetest.Secondary(tamper(mint(S)))}, P, nil},

		// Neither token verifies: the primary's error, else the secondary's.
		{"both expired", []licensetest.KeyFileOption{licensetest.Tokens(expired)}, "", license.ErrExpired},
		{"primary expired, secondary forged", []licensetest.KeyFileOption{licensetest.Primary(mint(P, expired)), licensetest.Secondary(tamper(mint(S)))}, "", license.ErrExpired},
		{"primary forged, secondary expired", []licensetest.KeyFileOption{licensetest.Primary(tamper(mint(P))), licensetest.Secondary(mint(S, expired))}, "", license.ErrSignature},
		{"only secondary, expired", []licensetest.KeyFileOption{licensetest.Primary(""), licensetest.Secondary(mint(S, expired))}, "", license.ErrExpired},
		{"both bound to another machine", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.Fingerprint("fp_other"))}, "", license.ErrFingerprint},

		// The file must agree with every token that verifies.
		{"aud differs", []licensetest.KeyFileOption{licensetest.FileField("aud", "Someone Else")}, "", license.ErrKeyFile},
		{"aud string vs two-element array", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.Audience(licensetest.DefaultAudience, "Other")),
			licensetest.FileField("aud", licensetest.DefaultAudience)}, "", license.ErrKeyFile},
		{"aud array with an extra member", []licensetest.KeyFileOption{licensetest.FileField("aud", []string{licensetest.DefaultAudience, "Other"})}, "", license.ErrKeyFile},
		{"aud missing from the file", []licensetest.KeyFileOption{licensetest.OmitFileField("aud")}, "", license.ErrKeyFile},
		{"sub differs", []licensetest.KeyFileOption{licensetest.FileField("sub", "sub_other")}, "", license.ErrKeyFile},
		{"tid differs", []licensetest.KeyFileOption{licensetest.FileField("tid", "ten_other")}, "", license.ErrKeyFile},
		{"tenant_ctry differs", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.Country("DE")), licensetest.FileField("tenant_ctry", "FR")}, "", license.ErrKeyFile},
		{"tenant_ctry in the file, none in the tokens", []licensetest.KeyFileOption{licensetest.FileField("tenant_ctry", "DE")}, "", license.ErrKeyFile},
		{"secondary for another subscription while primary is valid",
			[]licensetest.KeyFileOption{licensetest.Secondary(mint(S, licensetest.Subject("sub_other")))}, "", license.ErrKeyFile},
		{"secondary for another tenant, primary expired",
			[]licensetest.KeyFileOption{licensetest.Primary(mint(P, expired)), licensetest.Secondary(mint(S, licensetest.Tenant("ten_other")))}, "", license.ErrKeyFile},
		{"primary token claims the secondary slot", []licensetest.KeyFileOption{licensetest.Primary(mint(S))}, "", license.ErrKeyFile},
		{"secondary token claims the primary slot", []licensetest.KeyFileOption{licensetest.Secondary(mint(P))}, "", license.ErrKeyFile},
		{"the same primary token in both slots", func() []licensetest.KeyFileOption {
			tok := mint(P)
			return []licensetest.KeyFileOption{licensetest.Primary(tok), licensetest.Secondary(tok)}
		}(), "", license.ErrKeyFile},
		{"only secondary, claiming primary", []licensetest.KeyFileOption{licensetest.Primary(""), licensetest.Secondary(mint(P))}, "", license.ErrKeyFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := iss.KeyFile(tc.opts...)
			kf, err := license.ParseKeyFile(data)
			var lic *license.License
			if err == nil {
				lic, err = v.VerifyKeyFile(kf)
			}
			fxWantSentinel(t, err, tc.want)
			if tc.want != nil {
				if lic != nil {
					t.Errorf("licence returned with error")
				}
				return
			}
			if lic.Slot != tc.wantSlot {
				t.Errorf("Slot = %q, want %q", lic.Slot, tc.wantSlot)
			}
			want := kf.Primary
			if tc.wantSlot == S {
				want = kf.Secondary
			}
			direct, err := v.Verify(want)
			if err != nil || direct.ID != lic.ID {
				t.Errorf("licence %s is not the %s token's (%v)", lic.ID, tc.wantSlot, err)
			}
		})
	}
	if _, err := v.VerifyKeyFile(nil); !errors.Is(err, license.ErrKeyFile) {
		t.Errorf("VerifyKeyFile(nil) = %v", err)
	}
}

func TestParseKeyFile(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	good := iss.KeyFile()
	kf, err := license.ParseKeyFile(good)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(good, &raw); err != nil {
		t.Fatal(err)
	}
	want := license.KeyFile{Format: license.KeyFileFormat, Audience: []string{licensetest.DefaultAudience},
		Subject: licensetest.DefaultSubject, TenantID: licensetest.DefaultTenant,
		Primary: raw["primary"].(string), Secondary: raw["secondary"].(string)}
	if kf.Format != want.Format || !slices.Equal(kf.Audience, want.Audience) || kf.Subject != want.Subject ||
		kf.TenantID != want.TenantID || kf.TenantCountry != "" || kf.Primary != want.Primary || kf.Secondary != want.Secondary {
		t.Errorf("ParseKeyFile\n got %+v\nwant %+v", *kf, want)
	}

	withCtry := iss.KeyFile(licensetest.Tokens(licensetest.Country("DE"), licensetest.Audience("A", "B")))
	kf, err = license.ParseKeyFile(withCtry)
	if err != nil || kf.TenantCountry != "DE" || !slices.Equal(kf.Audience, []string{"A", "B"}) {
		t.Errorf("tenant_ctry and aud array: %+v, %v", kf, err)
	}
}

func TestParseKeyFileAccepts(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()
	good := iss.KeyFile()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"Windows CRLF", iss.KeyFile(licensetest.CRLF())},
		{"UTF-8 BOM", iss.KeyFile(licensetest.BOM())},
		{"CRLF and BOM", iss.KeyFile(licensetest.CRLF(), licensetest.BOM())},
		{"compact, one line", compactJSON(t, good)},
		{"no trailing newline", bytes.TrimRight(good, "\n")},
		{"trailing blank lines and tabs", append(append([]byte{}, good...), "\n\t\n  \r\n"...)},
		{"unknown fields (forward compatibility)", iss.KeyFile(licensetest.FileField("issued_by", "acme"), licensetest.FileField("x", map[string]any{"a": []int{1}}))},
		{"exactly 64 KiB", padKeyFile(t, good, license.MaxKeyFileSize)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kf, err := license.ParseKeyFile(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			lic, err := v.VerifyKeyFile(kf)
			if err != nil || lic.Slot != license.SlotPrimary {
				t.Fatalf("VerifyKeyFile: %v", err)
			}
		})
	}
}

func TestParseKeyFileRefuses(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	good := iss.KeyFile()
	tok := iss.Mint()
	obj := func(body string) []byte { return []byte(`{"format":"licensekit.keyfile/v1",` + body + `}`) }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"BOM only", []byte("\ufeff")},
		{"white space only", []byte("\r\n  \r\n")},
		{"the bare token", []byte(tok)},
		{"JSON array", []byte(`[` + string(good) + `]`)},
		{"JSON string", []byte(`"` + tok + `"`)},
		{"null", []byte(`null`)},
		{"truncated", good[:len(good)/2]},
		{"trailing garbage", append(append([]byte{}, good...), "x"...)},
		{"two documents", append(append([]byte{}, good...), good...)},
		{"trailing comma", bytes.Replace(compactJSON(t, good), []byte(`"}`), []byte(`",}`), 1)},
		{"BOM twice", append([]byte("\ufeff\ufeff"), good...)},
		{"UTF-16LE with BOM (Notepad 'Unicode')", utf16LE(good)},
		{"larger than 64 KiB", padKeyFile(t, good, license.MaxKeyFileSize+1)},
		{"1 MiB", append(append([]byte{}, good...), bytes.Repeat([]byte(" "), 1<<20)...)},
		{"neither primary nor secondary", iss.KeyFile(licensetest.Primary(""), licensetest.Secondary(""))},
		{"both slots empty strings", iss.KeyFile(licensetest.FileField("primary", ""), licensetest.FileField("secondary", ""))},
		{"format missing", iss.KeyFile(licensetest.OmitFileField("format"))},
		{"format v2", iss.KeyFile(licensetest.FileField("format", "licensekit.keyfile/v2"))},
		{"format upper case", iss.KeyFile(licensetest.FileField("format", "LICENSEKIT.KEYFILE/V1"))},
		{"format with trailing space", iss.KeyFile(licensetest.FileField("format", "licensekit.keyfile/v1 "))},
		{"format empty", iss.KeyFile(licensetest.FileField("format", ""))},
		{"format number", iss.KeyFile(licensetest.FileField("format", 1))},
		{"format null", iss.KeyFile(licensetest.FileField("format", nil))},
		{"duplicate primary", obj(`"primary":"` + tok + `","primary":"x"`)},
		{"duplicate format", obj(`"format":"licensekit.keyfile/v1","primary":"` + tok + `"`)},
		{"duplicate aud via escaped name", obj(`"aud":"A","\u0061ud":"B","primary":"` + tok + `"`)},
		{"duplicate member inside an unknown field", obj(`"x":{"a":1,"a":2},"primary":"` + tok + `"`)},
		{"primary a number", iss.KeyFile(licensetest.FileField("primary", 42))},
		{"primary an array", iss.KeyFile(licensetest.FileField("primary", []string{tok}))},
		{"primary an object", iss.KeyFile(licensetest.FileField("primary", map[string]string{"token": tok}))},
		{"primary null, no secondary", iss.KeyFile(licensetest.FileField("primary", nil), licensetest.Secondary(""))},
		{"secondary true", iss.KeyFile(licensetest.FileField("secondary", true))},
		{"aud a number", iss.KeyFile(licensetest.FileField("aud", 7))},
		{"aud with a number", iss.KeyFile(licensetest.FileField("aud", []any{"A", 1}))},
		{"aud null", iss.KeyFile(licensetest.FileField("aud", nil))},
		{"aud an object", iss.KeyFile(licensetest.FileField("aud", map[string]string{"name": "A"}))},
		{"sub a number", iss.KeyFile(licensetest.FileField("sub", 1))},
		{"tid an array", iss.KeyFile(licensetest.FileField("tid", []string{"ten_test"}))},
		{"tenant_ctry a number", iss.KeyFile(licensetest.FileField("tenant_ctry", 276))},
		{"invalid UTF-8", obj("\"sub\":\"\xff\",\"primary\":\"" + tok + `"`)},
		{"deeply nested unknown field", obj(`"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `,"primary":"` + tok + `"`)},
		{"invalid JSON inside an unknown field", obj(`"x":NaN,"primary":"` + tok + `"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				kf  *license.KeyFile
				err error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("ParseKeyFile panicked: %v", p)
					}
				}()
				kf, err = license.ParseKeyFile(tc.data)
			}()
			fxWantSentinel(t, err, license.ErrKeyFile)
			if kf != nil {
				t.Errorf("key file returned with error")
			}
			if err != nil && strings.Contains(err.Error(), tok) {
				t.Errorf("error message contains a whole token")
			}
		})
	}
}

func TestLoadKeyFile(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		path string
		want *license.Error
	}{
		{"written by licensetest", iss.WriteKeyFile(""), nil},
		{"Windows CRLF and BOM", iss.WriteKeyFile("", licensetest.CRLF(), licensetest.BOM()), nil},
		{"exactly 64 KiB", write("max.json", padKeyFile(t, iss.KeyFile(), license.MaxKeyFileSize)), nil},
		{"64 KiB + 1", write("big.json", padKeyFile(t, iss.KeyFile(), license.MaxKeyFileSize+1)), license.ErrKeyFile},
		{"10 MiB", write("huge.json", append(iss.KeyFile(), bytes.Repeat([]byte("\n"), 10<<20)...)), license.ErrKeyFile},
		{"missing file", filepath.Join(dir, "nope.json"), license.ErrKeyFile},
		{"missing directory", filepath.Join(dir, "no", "such", "license.json"), license.ErrKeyFile},
		{"a directory", dir, license.ErrKeyFile},
		{"empty file", write("empty.json", nil), license.ErrKeyFile},
		{"empty path", "", license.ErrKeyFile},
		{"wrong format", write("v2.json", iss.KeyFile(licensetest.FileField("format", "licensekit.keyfile/v2"))), license.ErrKeyFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kf, err := license.LoadKeyFile(tc.path)
			fxWantSentinel(t, err, tc.want)
			if tc.want != nil {
				return
			}
			if lic, err := v.VerifyKeyFile(kf); err != nil || lic.Slot != license.SlotPrimary {
				t.Errorf("VerifyKeyFile: %v", err)
			}
		})
	}
}

// padKeyFile grows a key file to exactly n bytes with an unknown field.
func padKeyFile(t *testing.T, data []byte, n int) []byte {
	t.Helper()
	body := bytes.TrimRight(data, "\r\n")
	body = bytes.TrimSuffix(body, []byte("}"))
	body = append(append([]byte{}, body...), `,"pad":""}`...)
	if len(body) > n {
		t.Fatalf("key file already %d bytes", len(body))
	}
	i := bytes.LastIndex(body, []byte(`""}`)) + 1
	out := append(append(append([]byte{}, body[:i]...), bytes.Repeat([]byte("x"), n-len(body))...), body[i:]...)
	if len(out) != n {
		t.Fatalf("padKeyFile made %d bytes, want %d", len(out), n)
	}
	return out
}

func compactJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func utf16LE(data []byte) []byte {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(string(data))) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}
