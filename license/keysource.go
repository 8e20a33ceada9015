package license

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// KeyFileCheckInterval is how often a running manager looks at
// Config.KeyFile for a replaced file (at most; it also looks whenever its
// watchdog wakes for another reason). [Manager.Reload] looks at once.
const KeyFileCheckInterval = 5 * time.Minute // the watchdog's tick, clockTick

// keySource says where the key in use came from.
type keySource uint8

const (
	srcNone      keySource = iota
	srcKeyFile             // Config.KeyFile
	srcActivated           // Manager.Activate, kept at m.keyPath
)

// activatedKeyName is the default file name of an activated key in the
// state directory: derived from the app id, so that products sharing a
// state directory never share it, and never steered by it.
func activatedKeyName(appID string) string {
	h := sha256.Sum256([]byte("licensekit/activated-key/v1\x00" + appID))
	return "activated-" + hex.EncodeToString(h[:8]) + ".json"
}

// tombstonePath is where the hash of a key file deactivated on this
// machine is kept, beside the activated key.
func (m *Manager) tombstonePath() string { return m.keyPath + ".deactivated" }

// loadLicense finds the key to use at start: an activated key that
// verifies, else Config.KeyFile unless it was deactivated here. Called
// by Open before m is shared.
func (m *Manager) loadLicense() {
	if t, err := os.ReadFile(m.tombstonePath()); err == nil {
		m.tombstone = string(bytes.TrimSpace(t))
	}
	if kf, err := LoadKeyFile(m.keyPath); err == nil {
		lic, err := m.verifier().VerifyKeyFile(kf)
		if err == nil {
			m.kf, m.lic, m.src = kf, lic, srcActivated
			if m.cfg.KeyFile != "" {
				_, m.fileHash, _ = readKeyFile(m.cfg.KeyFile)
			}
			return
		}
		m.log.Warn("licensekit: the activated key does not verify; using Config.KeyFile", "err", err)
	} else if !errors.Is(err, fs.ErrNotExist) {
		m.log.Warn("licensekit: the activated key is unreadable; using Config.KeyFile", "err", err)
	}
	if m.cfg.KeyFile == "" {
		m.licErr = fail(ErrUnlicensed, "no key file configured and no key activated")
		return
	}
	data, hash, err := readKeyFile(m.cfg.KeyFile)
	if err != nil {
		m.licErr = err
		return
	}
	m.fileHash = hash
	kf, lic, err := m.keyFromFile(data, hash)
	m.licErr = err
	if err == nil {
		m.kf, m.lic, m.src = kf, lic, srcKeyFile
	}
}

// keyFromFile parses and verifies key-file bytes whose hash is hash,
// refusing a file deactivated on this machine.
func (m *Manager) keyFromFile(data []byte, hash string) (*KeyFile, *License, error) {
	if m.tombstone != "" && hash == m.tombstone {
		return nil, nil, fail(ErrUnlicensed, "the key file was deactivated on this machine; activate a key or replace the file")
	}
	kf, err := ParseKeyFile(data)
	if err != nil {
		return nil, nil, err
	}
	lic, err := m.verifier().VerifyKeyFile(kf)
	if err != nil {
		return nil, nil, err
	}
	return kf, lic, nil
}

// readKeyFile reads a key file (at most one byte over the limit, so that
// ParseKeyFile refuses an oversized one) and its SHA-256.
func readKeyFile(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", failCause(ErrKeyFile, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, "", failCause(ErrKeyFile, err)
	}
	h := sha256.Sum256(data)
	return data, hex.EncodeToString(h[:]), nil
}

// keyFileFor wraps one verified licence token in a key file, in the slot
// the token claims (primary when it claims none), so that it reads back
// through LoadKeyFile and VerifyKeyFile like any key file.
func keyFileFor(lic *License, token string) *KeyFile {
	kf := &KeyFile{Format: KeyFileFormat, Audience: lic.Audience, Subject: lic.Subject,
		TenantID: lic.TenantID, TenantCountry: lic.TenantCountry}
	if lic.Slot == SlotSecondary {
		kf.Secondary = token
	} else {
		kf.Primary = token
	}
	return kf
}

// marshalKeyFile renders kf in the downloaded key file's format.
func marshalKeyFile(kf *KeyFile) ([]byte, error) {
	type wire struct {
		Format        string   `json:"format"`
		Audience      []string `json:"aud"`
		Subject       string   `json:"sub,omitempty"`
		TenantID      string   `json:"tid,omitempty"`
		TenantCountry string   `json:"tenant_ctry,omitempty"`
		Primary       string   `json:"primary,omitempty"`
		Secondary     string   `json:"secondary,omitempty"`
	}
	data, err := json.MarshalIndent(wire{kf.Format, kf.Audience, kf.Subject, kf.TenantID, kf.TenantCountry,
		kf.Primary, kf.Secondary}, "", "  ")
	return append(data, '\n'), err
}

// writeFileAtomic writes data to path with mode 0600: a temp file in the
// same directory, written, synced and renamed over path, then the
// directory synced. On any failure the previous file stays in place and
// the temp file is removed.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// removeFile removes path and syncs its directory; a missing file is not
// an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}
