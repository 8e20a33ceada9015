package licensetest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

func TestKeyFileShape(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	data := iss.KeyFile(licensetest.Tokens(licensetest.Country("DE"), licensetest.Audience("Acme Health GmbH")))

	// Field order as the control plane writes it, one a line.
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 9, string(data))
	assert.Equal(t, "{", lines[0])
	assert.Equal(t, `  "format": "licensekit.keyfile/v1",`, lines[1])
	assert.Equal(t, `  "aud": "Acme Health GmbH",`, lines[2])
	assert.Equal(t, `  "sub": "sub_test",`, lines[3])
	assert.Equal(t, `  "tid": "ten_test",`, lines[4])
	assert.Equal(t, `  "tenant_ctry": "DE",`, lines[5])
	assert.True(t, strings.HasPrefix(lines[6], `  "primary": "eyJ`), lines[6])
	assert.True(t, strings.HasPrefix(lines[7], `  "secondary": "eyJ`), lines[7])
	assert.Equal(t, "}", lines[8])

	var file map[string]string
	require.NoError(t, json.Unmarshal(data, &file))
	_, p := decode(t, file["primary"])
	_, s := decode(t, file["secondary"])
	assert.Equal(t, "primary", p["slot"])
	assert.Equal(t, "secondary", s["slot"])
	for _, c := range []map[string]any{p, s} {
		delete(c, "slot")
	}
	assert.Equal(t, p, s, "same claims, jti included, but slot; minted at the same instant")

	kf, err := license.ParseKeyFile(data)
	require.NoError(t, err)
	lic, err := iss.Verifier().VerifyKeyFile(kf)
	require.NoError(t, err)
	assert.Equal(t, license.SlotPrimary, lic.Slot)
	assert.Equal(t, "DE", lic.TenantCountry)
}

func TestKeyFileVariants(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()

	crlf := iss.KeyFile(licensetest.CRLF())
	assert.Equal(t, strings.Count(string(crlf), "\n"), strings.Count(string(crlf), "\r\n"), "every line ends in CRLF")
	assert.True(t, bytes.HasSuffix(crlf, []byte("}\r\n")))

	bom := iss.KeyFile(licensetest.BOM(), licensetest.CRLF())
	assert.True(t, bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF, '{', '\r', '\n'}))

	for name, data := range map[string][]byte{"CRLF": crlf, "BOM+CRLF": bom} {
		kf, err := license.ParseKeyFile(data)
		require.NoError(t, err, name)
		_, err = v.VerifyKeyFile(kf)
		assert.NoError(t, err, name)
	}
}

func TestKeyFileSlotsAndFields(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()
	other := iss.Mint(licensetest.Subject("sub_given"), licensetest.Audience("A", "B"), licensetest.Slot("secondary"))

	// Only a given secondary: the file fields come from it.
	var file map[string]any
	data := iss.KeyFile(licensetest.Primary(""), licensetest.Secondary(other))
	require.NoError(t, json.Unmarshal(data, &file))
	assert.NotContains(t, file, "primary")
	assert.Equal(t, other, file["secondary"])
	assert.Equal(t, "sub_given", file["sub"])
	assert.Equal(t, []any{"A", "B"}, file["aud"], "several audiences stay an array")
	assert.NotContains(t, file, "tenant_ctry")
	kf, err := license.ParseKeyFile(data)
	require.NoError(t, err)
	lic, err := v.VerifyKeyFile(kf)
	require.NoError(t, err)
	assert.Equal(t, license.SlotSecondary, lic.Slot)

	// A given token that is no JWS: no claims to copy.
	data = iss.KeyFile(licensetest.Primary("garbage"), licensetest.Secondary(""))
	file = nil
	require.NoError(t, json.Unmarshal(data, &file))
	assert.Equal(t, map[string]any{"format": "licensekit.keyfile/v1", "primary": "garbage"}, file)

	tests := []struct {
		name string
		opts []licensetest.KeyFileOption
		want error
	}{
		{"aud differs", []licensetest.KeyFileOption{licensetest.FileField("aud", "Someone Else")}, license.ErrKeyFile},
		{"wrong format", []licensetest.KeyFileOption{licensetest.FileField("format", "v0")}, license.ErrKeyFile},
		{"no format", []licensetest.KeyFileOption{licensetest.OmitFileField("format")}, license.ErrKeyFile},
		{"number sub", []licensetest.KeyFileOption{licensetest.FileField("sub", 5)}, license.ErrKeyFile},
		{"no tokens", []licensetest.KeyFileOption{licensetest.Primary(""), licensetest.Secondary("")}, license.ErrKeyFile},
		{"slot swapped", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.Slot("secondary"))}, license.ErrKeyFile},
		{"expired", []licensetest.KeyFileOption{licensetest.Tokens(licensetest.ExpiresIn(-time.Hour))}, license.ErrExpired},
		{"unknown field", []licensetest.KeyFileOption{licensetest.FileField("comment", "hi")}, nil},
		{"omit unknown", []licensetest.KeyFileOption{licensetest.OmitFileField("nothing")}, nil},
	}
	for _, tc := range tests {
		data := iss.KeyFile(tc.opts...)
		kf, err := license.ParseKeyFile(data)
		if err == nil {
			_, err = v.VerifyKeyFile(kf)
		}
		if tc.want == nil {
			assert.NoError(t, err, tc.name)
		} else {
			assert.ErrorIs(t, err, tc.want, "%s\n%s", tc.name, data)
		}
	}

	data = iss.KeyFile(licensetest.FileField("comment", "hi"), licensetest.FileField("sub", "x"))
	assert.Contains(t, string(data), "  \"sub\": \"x\",\n", "known fields keep their place")
	assert.True(t, strings.HasSuffix(string(data), "  \"comment\": \"hi\"\n}\n"), "new fields go last")
}

func TestWriteKeyFile(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	path := iss.WriteKeyFile("")
	assert.Equal(t, "license.json", filepath.Base(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	kf, err := license.LoadKeyFile(path)
	require.NoError(t, err)
	_, err = iss.Verifier().VerifyKeyFile(kf)
	assert.NoError(t, err)

	dir := t.TempDir()
	assert.Equal(t, filepath.Join(dir, "license.json"), iss.WriteKeyFile(dir, licensetest.BOM()))
}

// TestDefaultKeyFileIsOneLicence: a key file minted by default holds one
// licence in both slots (one jti), so it cannot run as two licences on two
// machines, and revoking that jti reaches both slots. A trial found two.
func TestDefaultKeyFileIsOneLicence(t *testing.T) {
	iss := licensetest.NewIssuer(t)
	v := iss.Verifier()
	read := func(data []byte) (primary, secondary *license.License) {
		t.Helper()
		kf, err := license.ParseKeyFile(data)
		require.NoError(t, err)
		primary, err = v.Verify(kf.Primary)
		require.NoError(t, err)
		secondary, err = v.Verify(kf.Secondary)
		require.NoError(t, err)
		return primary, secondary
	}
	written, err := os.ReadFile(iss.WriteKeyFile(""))
	require.NoError(t, err)
	var ids []string
	for name, data := range map[string][]byte{"KeyFile": iss.KeyFile(), "WriteKeyFile": written,
		"KeyFile with options": iss.KeyFile(licensetest.Tokens(licensetest.Subject("sub_x")))} {
		p, s := read(data)
		assert.Equal(t, p.ID, s.ID, "%s: both slots carry one jti", name)
		assert.Regexp(t, `^lic_[0-9a-f]{24}$`, p.ID, name)
		assert.Equal(t, license.SlotPrimary, p.Slot, name)
		assert.Equal(t, license.SlotSecondary, s.Slot, name)
		ids = append(ids, p.ID)
	}
	assert.Len(t, map[string]bool{ids[0]: true, ids[1]: true, ids[2]: true}, 3, "each file is a licence of its own")

	p, s := read(iss.KeyFile(licensetest.Tokens(licensetest.ID("lic_chosen"))))
	assert.Equal(t, "lic_chosen", p.ID)
	assert.Equal(t, "lic_chosen", s.ID)
}
