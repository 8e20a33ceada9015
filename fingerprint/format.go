package fingerprint

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Wire format, version 1:
//
//	"fp1." + base64url-without-padding(blob)          68 ASCII characters
//
//	blob (48 bytes):
//	  [0]      presence bitmap: bit 0 machine (always set), bit 1 cpu,
//	           bit 2 size, bit 3 nic, bit 4 disk; bits 5-7 are zero
//	  [1:16]   machine, 15 bytes of HMAC-SHA256
//	  [16:24]  cpu,      8 bytes
//	  [24:32]  size,     8 bytes
//	  [32:40]  nic,      8 bytes
//	  [40:48]  disk,     8 bytes
//
// An absent component has its bit clear and its bytes zero, so every
// fingerprint has exactly one encoding and exact equality is string equality.
const (
	prefix       = "fp1."
	machineLen   = 15
	componentLen = 8
	blobLen      = 1 + machineLen + componentLen*(numComponents-1)
	stringLen    = len(prefix) + (blobLen*8+5)/6
	reservedBits = 0xff &^ (1<<numComponents - 1)
)

var b64 = base64.RawURLEncoding.Strict()

// blob is the decoded form of a fingerprint.
type blob [blobLen]byte

// has reports whether component c is present.
func (b *blob) has(c int) bool { return b[0]&(1<<c) != 0 }

// slot returns the bytes of component c (present or not).
func (b *blob) slot(c int) []byte {
	if c == 0 {
		return b[1 : 1+machineLen]
	}
	off := 1 + machineLen + (c-1)*componentLen
	return b[off : off+componentLen]
}

// set stores sum (truncated) as component c and marks it present.
func (b *blob) set(c int, sum []byte) {
	copy(b.slot(c), sum)
	b[0] |= 1 << c
}

func (b *blob) String() string {
	return prefix + b64.EncodeToString(b[:])
}

// decode parses s into a blob, accepting only the canonical encoding of
// version 1. Its cost is bounded by a length check before any work.
func decode(s string, b *blob) error {
	if len(s) != stringLen || !strings.HasPrefix(s, prefix) {
		if v, ok := versionOf(s); ok && v != prefix {
			return fmt.Errorf("%w %q", ErrVersion, v)
		}
		return fmt.Errorf("%w: want %d characters starting %q", ErrMalformed, stringLen, prefix)
	}
	n, err := b64.Decode(b[:], []byte(s[len(prefix):]))
	if err != nil || n != blobLen {
		return fmt.Errorf("%w: bad base64url", ErrMalformed)
	}
	if b[0]&reservedBits != 0 || !b.has(0) {
		return fmt.Errorf("%w: bad component bitmap", ErrMalformed)
	}
	for c := 1; c < numComponents; c++ {
		if !b.has(c) && !allZero(b.slot(c)) {
			return fmt.Errorf("%w: absent component carries data", ErrMalformed)
		}
	}
	return nil
}

// versionOf returns the "fpN." prefix of s if s starts with one.
func versionOf(s string) (string, bool) {
	if len(s) < 4 || s[0] != 'f' || s[1] != 'p' {
		return "", false
	}
	for i := 2; i < len(s) && i < 8; i++ {
		switch c := s[i]; {
		case c == '.' && i > 2:
			return s[:i+1], true
		case c < '0' || c > '9':
			return "", false
		}
	}
	return "", false
}

func allZero(p []byte) bool {
	var acc byte
	for _, c := range p {
		acc |= c
	}
	return acc == 0
}
