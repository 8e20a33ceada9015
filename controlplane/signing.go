package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// signingRefresh is how often a Server rereads the signing keys, so that a
// key activated by another process signs here within seconds.
const signingRefresh = 5 * time.Second

// signingState is what the stored signing keys give: the signer of the
// active key, a verifier over every published key, and the JWKS. It is
// immutable; a change of keys builds a new one.
type signingState struct {
	signer   *mint.Signer
	verifier *license.Verifier
	jwks     []byte
	keys     []SigningKey // as listed, Sealed dropped
	cache    *verifyCache
	loaded   time.Time
	keyset   string // the newest keyset statement; "" when none could be made
}

var signingAlgs = []string{license.EdDSA, license.ES256, license.ES384, license.RS256, license.PS256}

// ensureSigningKey creates an EdDSA key when the store has none and makes
// sure one key is active, then loads the keys.
//
// Processes starting together on an empty store may each create a key.
// Each then activates the oldest key it sees, but only while no key is
// active (Store.ActivateFirstSigningKey), so exactly one activation
// happens and every process signs with its key. A process whose own new
// key lost retires it, so that no key nobody signs with stays published.
func (s *Server) ensureSigningKey(ctx context.Context) error {
	list, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("controlplane: listing signing keys: %w", err)
	}
	now := s.now()
	created := ""
	if len(list) == 0 {
		sk, err := s.newSigningKey(license.EdDSA)
		if err != nil {
			return err
		}
		ev := Event{Time: now, Actor: "system", Action: "signing.manage", Target: sk.KID, Details: map[string]string{"op": "create", "alg": sk.Alg}}
		if err := s.store.CreateSigningKey(ctx, sk, ev); err != nil && !errors.Is(err, ErrAlreadyExists) {
			return fmt.Errorf("controlplane: storing the first signing key: %w", err)
		}
		created = sk.KID
		if list, err = s.store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("controlplane: listing signing keys: %w", err)
		}
	}
	for attempt := 1; !slices.ContainsFunc(list, func(k SigningKey) bool { return k.State == SigningActive }); attempt++ {
		i := slices.IndexFunc(list, func(k SigningKey) bool { return k.State != SigningRetired })
		if i < 0 {
			return fmt.Errorf("%w: every signing key in the store is retired", ErrConfig)
		}
		kid := list[i].KID
		ev := Event{Time: now, Actor: "system", Action: "signing.manage", Target: kid, Details: map[string]string{"op": "activate"}}
		ks, err := s.keysetEvents(ctx, "activate", kid, nil, "system", "")
		if err != nil {
			return fmt.Errorf("controlplane: the first keyset statement: %w", err)
		}
		err = s.store.ActivateFirstSigningKey(ctx, kid, now, append(ks, ev)...)
		if err == nil {
			break
		}
		// A conflict is another process's first activation, or its
		// retirement of kid: look again.
		if !errors.Is(err, ErrConflict) || attempt == 5 {
			return fmt.Errorf("controlplane: activating the first signing key: %w", err)
		}
		if list, err = s.store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("controlplane: listing signing keys: %w", err)
		}
	}
	if err := s.retireUnused(ctx, created); err != nil {
		return err
	}
	_, err = s.reloadSigning(ctx)
	return err
}

// retireUnused retires kid, a key this process created at its first
// start, when another process's key became the active one and kid was
// never active.
func (s *Server) retireUnused(ctx context.Context, kid string) error {
	if kid == "" {
		return nil
	}
	list, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("controlplane: listing signing keys: %w", err)
	}
	i := slices.IndexFunc(list, func(k SigningKey) bool { return k.KID == kid })
	if i < 0 || list[i].State != SigningPending {
		return nil
	}
	now := s.now()
	ev := Event{Time: now, Actor: "system", Action: "signing.manage", Target: kid, Details: map[string]string{"op": "retire", "reason": "another process's first key is active"}}
	ks, err := s.keysetEvents(ctx, "retire", kid, nil, "system", "")
	if err != nil {
		return fmt.Errorf("controlplane: the keyset statement without the unused key: %w", err)
	}
	if err := s.store.RetireSigningKey(ctx, kid, now, append(ks, ev)...); err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("controlplane: retiring the unused first key: %w", err)
	}
	return nil
}

// storedSigner opens the sealed private half of the stored key kid, one of
// full, and makes its signer.
func (s *Server) storedSigner(full []SigningKey, kid string) (*mint.Signer, error) {
	i := slices.IndexFunc(full, func(k SigningKey) bool { return k.KID == kid })
	if i < 0 {
		return nil, fmt.Errorf("%w: signing key %s vanished", ErrConflict, kid)
	}
	priv, err := s.keys.openPrivate(kid, full[i].Sealed)
	if err != nil {
		return nil, err
	}
	key, err := mint.ParseKey(priv)
	clear(priv)
	if err != nil {
		return nil, fmt.Errorf("controlplane: signing key %s: %w", kid, err)
	}
	signer, err := mint.NewSigner(key, mint.WithIssuer(s.issuer), mint.WithClock(s.now))
	if err != nil {
		return nil, fmt.Errorf("controlplane: signing key %s: %w", kid, err)
	}
	return signer, nil
}

// newSigningKey generates a key and seals its private half.
func (s *Server) newSigningKey(alg string) (SigningKey, error) {
	k, err := mint.GenerateKey(alg)
	if err != nil {
		return SigningKey{}, fmt.Errorf("controlplane: generating a signing key: %w", err)
	}
	return s.sealSigningKey(k)
}

// sealSigningKey makes the pending record of k, its private half sealed.
func (s *Server) sealSigningKey(k *mint.Key) (SigningKey, error) {
	alg := k.Alg
	priv, err := k.MarshalPrivateJWK()
	if err != nil {
		return SigningKey{}, fmt.Errorf("controlplane: encoding a signing key: %w", err)
	}
	sealed, err := s.keys.sealPrivate(k.KID, priv)
	clear(priv)
	if err != nil {
		return SigningKey{}, fmt.Errorf("controlplane: sealing a signing key: %w", err)
	}
	pub, err := k.PublicJWK()
	if err != nil {
		return SigningKey{}, fmt.Errorf("controlplane: encoding a public key: %w", err)
	}
	return SigningKey{KID: k.KID, Alg: alg, State: SigningPending, PublicJWK: pub, Sealed: sealed, CreatedAt: s.now()}, nil
}

// currentSigning returns the signing state, rereading the keys when the
// cached state is older than signingRefresh.
func (s *Server) currentSigning(ctx context.Context) (*signingState, error) {
	st := s.signing.Load()
	if st != nil && s.now().Sub(st.loaded) < signingRefresh && !s.now().Before(st.loaded) {
		return st, nil
	}
	if !s.signingMu.TryLock() {
		if st != nil {
			return st, nil // someone else is rereading; the cached state is good
		}
		s.signingMu.Lock()
	}
	s.signingMu.Unlock()
	return s.reloadSigning(ctx)
}

// reloadSigning reads the signing keys and rebuilds the state when they
// changed.
func (s *Server) reloadSigning(ctx context.Context) (*signingState, error) {
	s.signingMu.Lock()
	defer s.signingMu.Unlock()
	list, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		if old := s.signing.Load(); old != nil {
			return old, nil // keep signing with what we know
		}
		return nil, fmt.Errorf("controlplane: listing signing keys: %w", err)
	}
	for i := range list {
		list[i].Sealed = nil
	}
	old := s.signing.Load()
	if old != nil && sameKeys(old.keys, list) {
		next := *old
		next.loaded = s.now()
		s.signing.Store(&next)
		return &next, nil
	}
	st, err := s.buildSigning(ctx, list)
	if err != nil {
		return nil, err
	}
	s.signing.Store(st)
	return st, nil
}

func sameKeys(a, b []SigningKey) bool {
	return slices.EqualFunc(a, b, func(x, y SigningKey) bool { return x.KID == y.KID && x.State == y.State })
}

func (s *Server) buildSigning(ctx context.Context, list []SigningKey) (*signingState, error) {
	var jwks bytes.Buffer
	jwks.WriteString(`{"keys":[`)
	var active string
	n := 0
	for _, k := range list {
		if k.State == SigningRetired {
			continue
		}
		if n > 0 {
			jwks.WriteByte(',')
		}
		jwks.Write(k.PublicJWK)
		n++
		if k.State == SigningActive {
			active = k.KID
		}
	}
	jwks.WriteString("]}")
	if active == "" {
		return nil, fmt.Errorf("%w: no active signing key in the store", ErrConfig)
	}
	full, err := s.store.ListSigningKeys(ctx) // for the sealed half of the active key
	if err != nil {
		return nil, fmt.Errorf("controlplane: listing signing keys: %w", err)
	}
	signer, err := s.storedSigner(full, active)
	if err != nil {
		return nil, err
	}
	ring, err := license.ParseKeyring(jwks.Bytes())
	if err != nil {
		return nil, fmt.Errorf("controlplane: published keys: %w", err)
	}
	v := license.NewVerifier(ring, license.WithIssuer(s.issuer), license.WithClock(s.now))
	return &signingState{signer: signer, verifier: v, jwks: jwks.Bytes(), keys: list, loaded: s.now(), cache: newVerifyCache(),
		keyset: s.currentKeyset(ctx, full)}, nil
}

// jwks serves the public keys of every key not retired.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request, _ *principal) error {
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(st.jwks)
	return nil
}

// signingKeyJSON is a signing key as the API shows it: never the private half.
type signingKeyJSON struct {
	KID         string  `json:"kid"`
	Alg         string  `json:"alg"`
	State       string  `json:"state"`
	PublicJWK   jsonRaw `json:"public_jwk"`
	CreatedAt   string  `json:"created_at"`
	ActivatedAt string  `json:"activated_at,omitempty"`
	RetiredAt   string  `json:"retired_at,omitempty"`
}

func signingKeyOut(k SigningKey) signingKeyJSON {
	return signingKeyJSON{KID: k.KID, Alg: k.Alg, State: k.State, PublicJWK: jsonRaw(k.PublicJWK),
		CreatedAt: formatTime(k.CreatedAt), ActivatedAt: formatTime(k.ActivatedAt), RetiredAt: formatTime(k.RetiredAt)}
}

// jsonRaw is JSON written as is.
type jsonRaw []byte

// MarshalJSON returns the bytes, or null when empty.
func (j jsonRaw) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

func (s *Server) listSigningKeys(w http.ResponseWriter, r *http.Request, _ *principal) error {
	list, err := s.store.ListSigningKeys(r.Context())
	if err != nil {
		return storeError(err, "Signing key")
	}
	out := make([]signingKeyJSON, 0, len(list))
	for _, k := range list {
		out = append(out, signingKeyOut(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"signing_keys": out, "next_cursor": ""})
	return nil
}

func (s *Server) createSigningKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Alg string `json:"alg"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Alg == "" {
		req.Alg = license.EdDSA
	}
	if !slices.Contains(signingAlgs, req.Alg) {
		return validationf("alg must be one of EdDSA, ES256, ES384, RS256, PS256")
	}
	sk, err := s.newSigningKey(req.Alg)
	if err != nil {
		return err
	}
	ev := s.event(r, p, "signing.manage", sk.KID, "", map[string]string{"op": "create", "alg": sk.Alg})
	ks, err := s.keysetEvents(r.Context(), "create", sk.KID, sk.PublicJWK, p.actor(), requestID(r))
	if err != nil {
		return err
	}
	if err := s.store.CreateSigningKey(r.Context(), sk, append(ks, ev)...); err != nil {
		return storeError(err, "Signing key")
	}
	if _, err := s.reloadSigning(r.Context()); err != nil {
		return err
	}
	return s.answerSigningKey(w, r, sk.KID, http.StatusCreated)
}

func (s *Server) activateSigningKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.changeSigningKey(w, r, p, "activate", s.store.ActivateSigningKey)
}

func (s *Server) retireSigningKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.changeSigningKey(w, r, p, "retire", s.store.RetireSigningKey)
}

func (s *Server) changeSigningKey(w http.ResponseWriter, r *http.Request, p *principal, op string,
	change func(context.Context, string, time.Time, ...Event) error) error {
	kid := r.PathValue("kid")
	if !validID(kid) {
		return notFound("Signing key")
	}
	ev := s.event(r, p, "signing.manage", kid, "", map[string]string{"op": op})
	ks, err := s.keysetEvents(r.Context(), op, kid, nil, p.actor(), requestID(r))
	if err != nil {
		return err
	}
	if err := change(r.Context(), kid, s.now(), append(ks, ev)...); err != nil {
		if errors.Is(err, ErrConflict) {
			if op == "retire" {
				return conflictf("The active key cannot be retired, nor a retired key again; activate another key first")
			}
			return conflictf("A retired key cannot be activated")
		}
		return storeError(err, "Signing key")
	}
	if _, err := s.reloadSigning(r.Context()); err != nil {
		return err
	}
	return s.answerSigningKey(w, r, kid, http.StatusOK)
}

func (s *Server) answerSigningKey(w http.ResponseWriter, r *http.Request, kid string, status int) error {
	list, err := s.store.ListSigningKeys(r.Context())
	if err != nil {
		return storeError(err, "Signing key")
	}
	i := slices.IndexFunc(list, func(k SigningKey) bool { return k.KID == kid })
	if i < 0 {
		return notFound("Signing key")
	}
	writeJSON(w, status, map[string]any{"signing_key": signingKeyOut(list[i])})
	return nil
}
