package license

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// KeyFileFormat is the format tag of a downloaded key file.
const KeyFileFormat = "licensekit.keyfile/v1"

// MaxKeyFileSize is the largest key file accepted, in bytes.
const MaxKeyFileSize = 64 << 10

// KeyFile is a customer's downloaded key file: one or two licence tokens
// (primary and secondary, so one can be reset while the other runs) and the
// claims they are expected to carry. Parsing does not verify anything; use
// [Verifier.VerifyKeyFile].
type KeyFile struct {
	Format        string   // always KeyFileFormat
	Audience      []string // aud: the licence holder
	Subject       string   // sub
	TenantID      string   // tid
	TenantCountry string   // tenant_ctry
	Primary       string   // the primary licence token, or ""
	Secondary     string   // the secondary licence token, or ""
}

// LoadKeyFile reads and parses the key file at path. See [ParseKeyFile].
func LoadKeyFile(path string) (*KeyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, failCause(ErrKeyFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, failCause(ErrKeyFile, err)
	}
	return ParseKeyFile(data)
}

// ParseKeyFile parses a downloaded key file. It accepts a UTF-8 byte-order
// mark and Windows line endings, and refuses files over [MaxKeyFileSize],
// invalid or duplicate-member JSON, another format tag, wrongly typed
// fields, a missing aud, and files without any token. Errors wrap [ErrKeyFile].
func ParseKeyFile(data []byte) (*KeyFile, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fail(ErrKeyFile, "larger than 64 KiB")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	kf := &KeyFile{}
	r := strictjson.NewReader(data)
	err := r.Object(func(name string) error {
		var err error
		switch name {
		case "format":
			kf.Format, err = r.String()
		case "aud":
			if r.Peek() == strictjson.String {
				var s string
				s, err = r.String()
				kf.Audience = []string{s}
			} else {
				err = r.Array(func() error {
					s, err := r.String()
					kf.Audience = append(kf.Audience, s)
					return err
				})
			}
		case "sub":
			kf.Subject, err = r.String()
		case "tid":
			kf.TenantID, err = r.String()
		case "tenant_ctry":
			kf.TenantCountry, err = r.String()
		case "primary":
			kf.Primary, err = r.String()
		case "secondary":
			kf.Secondary, err = r.String()
		default:
			err = r.Skip() // unknown fields: tolerated for forward compatibility
		}
		if errors.Is(err, strictjson.ErrType) {
			return fail(ErrKeyFile, "field "+quote(name)+" has the wrong type")
		}
		return err
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		if _, ok := err.(*wrapped); ok {
			return nil, err
		}
		return nil, fail(ErrKeyFile, "not valid JSON: "+err.Error())
	}
	if kf.Format != KeyFileFormat {
		return nil, fail(ErrKeyFile, "format "+quote(kf.Format)+", want "+KeyFileFormat)
	}
	if len(kf.Audience) == 0 || slices.Contains(kf.Audience, "") {
		return nil, fail(ErrKeyFile, "aud is missing or empty")
	}
	if kf.Primary == "" && kf.Secondary == "" {
		return nil, fail(ErrKeyFile, "no primary or secondary key")
	}
	return kf, nil
}

// VerifyKeyFile verifies the key file's tokens, primary first, then
// secondary, and returns the first licence that verifies, with Slot set to
// the slot that carried it. Every token that verifies must agree with the
// file's aud, sub, tid and tenant_ctry, and must not claim the other slot,
// or the whole file is refused with [ErrKeyFile]. When no token verifies,
// the error is the primary's (or the secondary's when there is no primary).
func (v *Verifier) VerifyKeyFile(kf *KeyFile) (*License, error) {
	if kf == nil {
		return nil, fail(ErrKeyFile, "nil key file")
	}
	var (
		first    *License
		firstErr error
	)
	for _, slot := range [...]struct{ name, token string }{{SlotPrimary, kf.Primary}, {SlotSecondary, kf.Secondary}} {
		if slot.token == "" {
			continue
		}
		lic, err := v.Verify(slot.token)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := kf.crossCheck(lic, slot.name); err != nil {
			return nil, err
		}
		lic.Slot = slot.name
		if first == nil {
			first = lic
		}
	}
	if first != nil {
		return first, nil
	}
	return nil, firstErr
}

func (kf *KeyFile) crossCheck(lic *License, slot string) error {
	if lic.Slot != "" && lic.Slot != slot {
		return fail(ErrKeyFile, "the "+slot+" token claims slot "+quote(lic.Slot))
	}
	if !slices.Equal(kf.Audience, lic.Audience) {
		return fail(ErrKeyFile, "aud in the file differs from the "+slot+" token's")
	}
	if kf.Subject != "" && kf.Subject != lic.Subject {
		return fail(ErrKeyFile, "sub in the file differs from the "+slot+" token's")
	}
	if kf.TenantID != "" && kf.TenantID != lic.TenantID {
		return fail(ErrKeyFile, "tid in the file differs from the "+slot+" token's")
	}
	if kf.TenantCountry != "" && kf.TenantCountry != lic.TenantCountry {
		return fail(ErrKeyFile, "tenant_ctry in the file differs from the "+slot+" token's")
	}
	return nil
}
