package license

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// KeysetChainFormat is the format of the file where a [Manager] keeps the
// keyset statements it accepted.
const KeysetChainFormat = "licensekit.keyset-chain/v1"

// maxChainFile bounds the keyset chain file: every statement that taught
// a key (at most MaxLearntKeys) plus the newest one.
const maxChainFile = (MaxLearntKeys + 1) * (MaxTokenSize + 8)

// keysetChain is what a manager has learnt from keyset statements. The
// statements are kept, not the keys: at start each is verified again, in
// order, from the configured keys, so nothing but signatures vouches for
// a learnt key. Guarded by Manager.mu (or m not yet shared).
type keysetChain struct {
	tokens []string  // accepted statements kept, oldest first
	taught []bool    // per token: it added at least one key
	newest time.Time // iat of the newest statement accepted
	learnt int       // keys added on top of Config.Keys
}

// chainPath is where the accepted keyset statements are kept: in the
// state directory, named after the app id.
func (m *Manager) chainPath() string {
	h := sha256.Sum256([]byte("licensekit/keyset-chain/v1\x00" + m.cfg.AppID))
	return filepath.Join(m.dir, "keyset-"+hex.EncodeToString(h[:8])+".json")
}

// ImportKeyset accepts a keyset statement handed over by other means than
// a heartbeat (for example fetched from the control plane's
// /.well-known/keyset by a tool and carried to an air-gapped machine). It
// applies exactly the rules of a statement delivered with a heartbeat: it
// must verify with a key this manager already trusts (configured or
// learnt), have typ "keyset+jwt", the configured Issuer when one is set,
// an iat later than the newest statement accepted, and keys whose kids
// are their thumbprints. Accepted, its keys are added to the keys the
// manager verifies with — none is ever removed — and the statement is
// kept in the state directory, so a restart learns the same keys again.
// A refusal changes nothing and wraps the reason's sentinel
// ([ErrUnknownKey], [ErrSignature], [ErrMalformed], [ErrKeyset], …).
func (m *Manager) ImportKeyset(token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acceptKeyset(strings.TrimSpace(token))
}

// acceptKeyset verifies and learns one statement, and keeps it. m.mu
// must be held.
func (m *Manager) acceptKeyset(token string) error {
	if n := len(m.ks.tokens); n > 0 && m.ks.tokens[n-1] == token {
		return nil // the newest statement again: every answer carries it
	}
	ks, ring, added, err := m.ks.check(m.verifier(), token)
	if err != nil {
		return err
	}
	m.ks.add(token, ks, added)
	m.ver.Store(NewVerifier(ring, m.verOpts...))
	if err := m.saveChain(); err != nil {
		m.log.Warn("licensekit: keeping the keyset statement failed; its keys are learnt until the process stops", "err", err)
	}
	m.log.Info("licensekit: keyset statement accepted", "jti", ks.ID, "added", added, "learnt", m.ks.learnt)
	return nil
}

// check verifies token with v and against the chain's order, and returns
// the statement, the grown keyring and how many keys it adds. It changes
// nothing.
func (c *keysetChain) check(v *Verifier, token string) (*Keyset, *Keyring, int, error) {
	ks, err := v.VerifyKeyset(token)
	if err != nil {
		return nil, nil, 0, err
	}
	if !ks.IssuedAt.After(c.newest) {
		return nil, nil, 0, fail(ErrKeyset, "statement issued at "+ks.IssuedAt.UTC().Format(time.RFC3339)+
			" is not newer than the last one accepted ("+c.newest.UTC().Format(time.RFC3339)+")")
	}
	ring, added, err := v.keys.grow(ks)
	if err != nil {
		return nil, nil, 0, err
	}
	if c.learnt+added > MaxLearntKeys {
		return nil, nil, 0, fail(ErrKeyset, "accepting it would learn more than "+strconv.Itoa(MaxLearntKeys)+" keys")
	}
	return ks, ring, added, nil
}

// add records an accepted statement. A statement that taught no key is
// kept only while it is the newest (it carries the order).
func (c *keysetChain) add(token string, ks *Keyset, added int) {
	if n := len(c.tokens); n > 0 && !c.taught[n-1] {
		c.tokens, c.taught = c.tokens[:n-1], c.taught[:n-1]
	}
	c.tokens = append(c.tokens, token)
	c.taught = append(c.taught, added > 0)
	c.newest = ks.IssuedAt
	c.learnt += added
}

// loadKeysets reads the kept statements and accepts them again, in
// order, starting from Config.Keys. The first one that no longer passes
// ends the chain (it and those after it are forgotten). A missing or
// unreadable file means none. Called by Open before m is shared.
func (m *Manager) loadKeysets() {
	tokens, err := readChain(m.chainPath())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("licensekit: the kept keyset statements are unusable; only the configured keys are trusted", "err", err)
		}
		return
	}
	for i, token := range tokens {
		ks, ring, added, err := m.ks.check(m.verifier(), token)
		if err != nil {
			m.log.Warn("licensekit: a kept keyset statement no longer verifies; forgetting it and those after it",
				"index", i, "err", err)
			return
		}
		m.ks.add(token, ks, added)
		m.ver.Store(NewVerifier(ring, m.verOpts...))
	}
}

// saveChain writes the kept statements. m.mu must be held.
func (m *Manager) saveChain() error {
	b := []byte(`{"format":"` + KeysetChainFormat + `","statements":[`)
	for i, t := range m.ks.tokens {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, t) // a compact JWS: nothing to escape
	}
	b = append(b, "]}\n"...)
	return writeFileAtomic(m.chainPath(), b)
}

// readChain reads a keyset chain file strictly.
func readChain(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChainFile+1))
	if err != nil {
		return nil, err
	}
	return parseChain(data)
}

// parseChain parses the keyset chain file's JSON: the format and the
// statements, nothing else.
func parseChain(data []byte) ([]string, error) {
	if len(data) > maxChainFile {
		return nil, fail(ErrMalformed, "keyset chain file larger than "+strconv.Itoa(maxChainFile)+" bytes")
	}
	var (
		format string
		tokens []string
		have   int
	)
	r := strictjson.NewReader(data)
	err := r.Object(func(name string) error {
		switch name {
		case "format":
			have |= 1
			s, err := r.String()
			format = s
			return err
		case "statements":
			have |= 2
			return r.Array(func() error {
				if len(tokens) > MaxLearntKeys {
					return errors.New("too many statements")
				}
				s, err := r.String()
				tokens = append(tokens, s)
				return err
			})
		}
		return errors.New("unknown member " + strconv.Quote(name))
	})
	if err == nil {
		err = r.End()
	}
	switch {
	case err != nil:
		return nil, fail(ErrMalformed, "keyset chain file: "+err.Error())
	case have != 3 || format != KeysetChainFormat:
		return nil, fail(ErrMalformed, "keyset chain file is not "+KeysetChainFormat)
	}
	return tokens, nil
}
