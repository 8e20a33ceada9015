package licensetest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/licensekit/licensekit/license"
)

// KeyFileName is the file name [Issuer.WriteKeyFile] writes.
const KeyFileName = "license.json"

// KeyFileOption changes a key file made by [Issuer.KeyFile] or
// [Issuer.WriteKeyFile].
type KeyFileOption func(*keyFileConfig)

type keyFileConfig struct {
	primary, secondary *string
	mint               []MintOption
	fields             []fieldEdit
	crlf, bom          bool
}

type fieldEdit struct {
	name  string
	value any
	omit  bool
}

// Primary puts token in the primary slot instead of a minted one; "" leaves
// the slot out of the file.
func Primary(token string) KeyFileOption { return func(c *keyFileConfig) { c.primary = &token } }

// Secondary puts token in the secondary slot instead of a minted one; ""
// leaves the slot out of the file.
func Secondary(token string) KeyFileOption { return func(c *keyFileConfig) { c.secondary = &token } }

// Tokens adds options for both minted tokens, applied after the slot
// claim, so Slot can be overridden too. Repeated Tokens options add up.
func Tokens(opts ...MintOption) KeyFileOption {
	return func(c *keyFileConfig) { c.mint = append(c.mint, opts...) }
}

// FileField sets the top-level field name of the file to value (encoded
// with encoding/json), overriding what the tokens gave: a wrong format tag,
// an aud that differs from the tokens', a number where a string belongs, or
// an unknown field. Known fields keep their place; new ones go last.
func FileField(name string, value any) KeyFileOption {
	return func(c *keyFileConfig) { c.fields = append(c.fields, fieldEdit{name: name, value: value}) }
}

// OmitFileField removes top-level fields from the file, e.g. "format".
func OmitFileField(names ...string) KeyFileOption {
	return func(c *keyFileConfig) {
		for _, n := range names {
			c.fields = append(c.fields, fieldEdit{name: n, omit: true})
		}
	}
}

// CRLF writes the file with Windows line endings ("\r\n").
func CRLF() KeyFileOption { return func(c *keyFileConfig) { c.crlf = true } }

// BOM starts the file with a UTF-8 byte-order mark (EF BB BF), as some
// Windows editors save it.
func BOM() KeyFileOption { return func(c *keyFileConfig) { c.bom = true } }

// KeyFile returns a downloadable key file (format licensekit.keyfile/v1,
// what a customer downloads from the control plane), indented, one field a
// line, ending in a newline:
//
//	{
//	  "format": "licensekit.keyfile/v1",
//	  "aud": "Test Customer",
//	  "sub": "sub_test",
//	  "tid": "ten_test",
//	  "primary": "eyJ…",
//	  "secondary": "eyJ…"
//	}
//
// By default it mints one licence as two tokens, at the same instant, with
// identical claims — one jti — except slot ("primary", "secondary"), as a
// control plane issues them; [Tokens] options apply to both. The file's aud, sub,
// tid and tenant_ctry are copied from the claims of the first token in the
// file (primary, else secondary; given tokens are decoded without
// verification, and fields they lack are left out); an aud of one string
// is written as a string, as the control plane does.
func (i *Issuer) KeyFile(opts ...KeyFileOption) []byte {
	i.t.Helper()
	var c keyFileConfig
	for _, o := range opts {
		o(&c)
	}
	now := time.Now()
	// One licence: both minted slots share a jti, unless an option sets one.
	mintOpts := append([]MintOption{ID("lic_" + randomHex(12))}, c.mint...)
	primary := i.slotToken(c.primary, now, license.SlotPrimary, mintOpts)
	secondary := i.slotToken(c.secondary, now, license.SlotSecondary, mintOpts)

	fields := []field{{"format", license.KeyFileFormat}}
	first := primary
	if first == "" {
		first = secondary
	}
	claims := unsafeClaims(first)
	for _, name := range []string{"aud", "sub", "tid", "tenant_ctry"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		if name == "aud" {
			var one []string
			if json.Unmarshal(v, &one) == nil && len(one) == 1 {
				v, _ = json.Marshal(one[0])
			}
		}
		fields = append(fields, field{name, v})
	}
	if primary != "" {
		fields = append(fields, field{"primary", primary})
	}
	if secondary != "" {
		fields = append(fields, field{"secondary", secondary})
	}
	for _, e := range c.fields {
		fields = edit(fields, e)
	}

	var buf bytes.Buffer
	if c.bom {
		buf.WriteString("\uFEFF")
	}
	nl := "\n"
	if c.crlf {
		nl = "\r\n"
	}
	buf.WriteString("{" + nl)
	for n, f := range fields {
		name, err := json.Marshal(f.name)
		if err != nil {
			i.fatalf("licensetest: encoding key file field name: %v", err)
		}
		value, err := json.Marshal(f.value)
		if err != nil {
			i.fatalf("licensetest: encoding key file field %q: %v", f.name, err)
		}
		buf.WriteString("  ")
		buf.Write(name)
		buf.WriteString(": ")
		buf.Write(value)
		if n < len(fields)-1 {
			buf.WriteByte(',')
		}
		buf.WriteString(nl)
	}
	buf.WriteString("}" + nl)
	return buf.Bytes()
}

// WriteKeyFile writes [Issuer.KeyFile](opts...) to license.json in dir, or
// in a fresh directory of the issuer's TB (its TempDir) when dir is "",
// with mode 0600, and returns its path. A write failure fails the test.
func (i *Issuer) WriteKeyFile(dir string, opts ...KeyFileOption) string {
	i.t.Helper()
	if dir == "" {
		dir = i.t.TempDir()
	}
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, i.KeyFile(opts...), 0o600); err != nil {
		i.fatalf("licensetest: writing key file: %v", err)
	}
	return path
}

// slotToken returns the given token, or mints one for the slot.
func (i *Issuer) slotToken(given *string, now time.Time, slot string, opts []MintOption) string {
	i.t.Helper()
	if given != nil {
		return *given
	}
	return i.mint(now, kindLicense, append([]MintOption{Slot(slot)}, opts...))
}

type field struct {
	name  string
	value any
}

func edit(fields []field, e fieldEdit) []field {
	for n, f := range fields {
		if f.name != e.name {
			continue
		}
		if e.omit {
			return append(fields[:n:n], fields[n+1:]...)
		}
		fields[n].value = e.value
		return fields
	}
	if e.omit {
		return fields
	}
	return append(fields, field{e.name, e.value})
}

// unsafeClaims decodes a token's claims without verifying anything; nil
// when the token is not a compact JWS with a JSON object as payload.
func unsafeClaims(token string) map[string]json.RawMessage {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	return claims
}
