package grace

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// The state file format, version 1 (all integers big-endian):
//
//	offset  size  field
//	0       4     magic "LKGS"
//	4       1     version (1)
//	5       8     key id: first 8 bytes of HMAC-SHA256(seal key, "licensekit/grace key id")
//	13      4     payload length n
//	17      n     payload: JSON object, see filePayload
//	17+n    32    seal: HMAC-SHA256(seal key, bytes 0 … 17+n)
//
// The seal key is HMAC-SHA256 keyed with "licensekit/grace/v1 seal" over
// the length-prefixed app id, licence id and machine key. The whole file
// must be exactly 17+n+32 bytes and at most MaxFileSize.
const (
	fileMagic   = "LKGS"
	fileVersion = 1
	headerSize  = 4 + 1 + 8 + 4
	sealSize    = sha256.Size

	// MaxFileSize is the largest state file [Store.Load] reads and
	// [Store.Save] writes. A lease token is at most 16 KiB (the verifier's limit).
	MaxFileSize = 64 << 10

	// maxCharged bounds State.Charged in a file (in seconds): a hundred
	// years, far past any lease, and far from overflowing a Duration.
	maxCharged = 100 * 366 * 24 * 3600
)

// filePayload is the JSON payload of a version 1 file.
type filePayload struct {
	App           string    `json:"app"`
	License       string    `json:"lic"`
	HighWater     time.Time `json:"hw"`
	Revoked       bool      `json:"revoked"`
	Suspended     bool      `json:"suspended,omitempty"`
	ClockTampered bool      `json:"clock_tampered"`
	LastState     string    `json:"last_state"`
	ActivationKey string    `json:"activation_key"`
	LeaseToken    string    `json:"lease"` // "" for none
	LeaseReceived time.Time `json:"lease_received,omitzero"`
	Floor         time.Time `json:"floor,omitzero"`
	Charged       int64     `json:"charged_s,omitempty"` // State.Charged in whole seconds
	Running       bool      `json:"running,omitempty"`   // written by a process not yet stopped cleanly
	LicenseKey    string    `json:"license_key,omitempty"`
	OfflineNonce  string    `json:"offline_nonce,omitempty"`
	OfflineAt     time.Time `json:"offline_requested_at,omitzero"`
}

// sealer holds the keys that seal one product's and licence's file on one machine.
type sealer struct {
	app, license string
	key          []byte
	keyID        [8]byte
}

func newSealer(app, license, machine string) *sealer {
	m := hmac.New(sha256.New, []byte("licensekit/grace/v1 seal"))
	for _, s := range []string{app, license, machine} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	s := &sealer{app: app, license: license, key: m.Sum(nil)}
	id := hmac.New(sha256.New, s.key)
	id.Write([]byte("licensekit/grace key id"))
	copy(s.keyID[:], id.Sum(nil))
	return s
}

// encode returns the sealed file for st. It does not verify the lease.
func (s *sealer) encode(st State) ([]byte, error) {
	p := filePayload{
		App:           s.app,
		License:       s.license,
		HighWater:     wall(st.HighWater),
		Revoked:       st.Revoked,
		Suspended:     st.Suspended,
		ClockTampered: st.ClockTampered,
		LastState:     st.LastState,
		ActivationKey: st.ActivationKey,
		Floor:         wall(st.Floor),
		Charged:       chargedSeconds(st.Charged),
		Running:       st.running,
		LicenseKey:    st.LicenseKey,
		OfflineNonce:  st.OfflineNonce,
		OfflineAt:     wall(st.OfflineRequestedAt),
	}
	if st.Lease != nil {
		p.LeaseToken = st.Lease.Token
		p.LeaseReceived = wall(st.Lease.ReceivedAt)
	}
	payload, err := json.Marshal(p)
	if err != nil { // only a time outside years 0–9999
		return nil, fmt.Errorf("%w: %v", ErrInvalidState, err)
	}
	return s.seal(payload)
}

// chargedSeconds rounds d up to whole seconds within [0, maxCharged].
func chargedSeconds(d time.Duration) int64 {
	switch {
	case d <= 0:
		return 0
	case d >= maxCharged*time.Second:
		return maxCharged
	}
	return int64((d + time.Second - 1) / time.Second)
}

// seal wraps payload in the header and seal of version 1.
func (s *sealer) seal(payload []byte) ([]byte, error) {
	size := headerSize + len(payload) + sealSize
	if size > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidState, size, MaxFileSize)
	}
	b := make([]byte, 0, size)
	b = append(b, fileMagic...)
	b = append(b, fileVersion)
	b = append(b, s.keyID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return m.Sum(b), nil
}

// decode checks the envelope and seal of a file and parses its payload.
// It returns the state with the lease token only (Lease.Token set, nothing
// else) for the caller to re-verify. It never panics on any input.
func (s *sealer) decode(b []byte) (State, error) {
	switch {
	case len(b) == 0:
		return State{}, ErrNoState
	case len(b) > MaxFileSize:
		return State{}, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, MaxFileSize)
	case len(b) < headerSize+sealSize:
		return State{}, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(b))
	case string(b[:4]) != fileMagic:
		return State{}, fmt.Errorf("%w: bad magic", ErrCorrupt)
	case b[4] != fileVersion:
		return State{}, fmt.Errorf("%w: version %d", ErrVersion, b[4])
	case !bytes.Equal(b[5:13], s.keyID[:]):
		return State{}, ErrWrongMachine
	}
	n := binary.BigEndian.Uint32(b[13:17])
	if uint64(len(b)) != uint64(headerSize)+uint64(n)+sealSize {
		return State{}, fmt.Errorf("%w: length field says %d payload bytes, file has %d", ErrCorrupt, n, len(b)-headerSize-sealSize)
	}
	body, mac := b[:len(b)-sealSize], b[len(b)-sealSize:]
	m := hmac.New(sha256.New, s.key)
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), mac) {
		return State{}, fmt.Errorf("%w: seal does not verify", ErrCorrupt)
	}
	return s.parse(body[headerSize:])
}

// parse reads an authenticated payload strictly.
func (s *sealer) parse(payload []byte) (State, error) {
	var p filePayload
	d := json.NewDecoder(bytes.NewReader(payload))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return State{}, fmt.Errorf("%w: payload: %v", ErrCorrupt, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return State{}, fmt.Errorf("%w: payload: trailing data", ErrCorrupt)
	}
	if p.App == "" {
		return State{}, fmt.Errorf("%w: payload names no app", ErrCorrupt)
	}
	if p.App != s.app || p.License != s.license {
		return State{}, ErrWrongMachine
	}
	if p.Charged < 0 || p.Charged > maxCharged {
		return State{}, fmt.Errorf("%w: payload: charged_s %d out of range", ErrCorrupt, p.Charged)
	}
	st := State{
		HighWater:          wall(p.HighWater),
		Revoked:            p.Revoked,
		Suspended:          p.Suspended,
		ClockTampered:      p.ClockTampered,
		LastState:          p.LastState,
		ActivationKey:      p.ActivationKey,
		Floor:              wall(p.Floor),
		Charged:            time.Duration(p.Charged) * time.Second,
		running:            p.Running,
		LicenseKey:         p.LicenseKey,
		OfflineNonce:       p.OfflineNonce,
		OfflineRequestedAt: wall(p.OfflineAt),
	}
	if p.LeaseToken != "" {
		st.Lease = &Lease{Token: p.LeaseToken, ReceivedAt: wall(p.LeaseReceived)}
	}
	return st, nil
}
