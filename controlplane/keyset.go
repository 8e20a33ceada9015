package controlplane

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/license/mint"
)

// A keyset statement tells deployed products which keys the control plane
// publishes, signed by a key they already trust: the key that was active
// before the change it announces. A product built with key A thus learns
// key B from a statement signed by A, before B signs anything.
//
// Statements are kept as audit events of action keysetAction, stored in
// the same Store call as the signing-key change they announce, so that
// the change and its statement are durable together. The newest such
// event is the statement served.
const keysetAction = "signing.keyset"

// keysetMember is the event detail holding the statement.
const keysetMember = "statement"

// published returns the public JWKs of the keys not retired, in store order.
func published(list []SigningKey) [][]byte {
	var out [][]byte
	for _, k := range list {
		if k.State != SigningRetired {
			out = append(out, k.PublicJWK)
		}
	}
	return out
}

// activeKID returns the kid of the active key in list, or "".
func activeKID(list []SigningKey) string {
	for _, k := range list {
		if k.State == SigningActive {
			return k.KID
		}
	}
	return ""
}

// keysetEvents returns the event holding the statement that announces
// the keys a change leaves published: op "create" (or "import") adds the
// public JWK added, "activate" publishes kid (already published unless
// retired, which the Store then refuses), "retire" drops kid. It is signed
// by the key active before the change or, when none is (the first key),
// by the key being activated; with neither it returns no event. Its iat
// follows the newest stored statement's, so products see each statement
// as newer than the last.
func (s *Server) keysetEvents(ctx context.Context, op, kid string, added []byte, actor, requestID string) ([]Event, error) {
	full, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("controlplane: listing signing keys: %w", err)
	}
	pub := published(full)
	signer := activeKID(full)
	switch op {
	case "create", "import":
		if slices.ContainsFunc(full, func(k SigningKey) bool { return k.KID == kid }) {
			return nil, nil // a known kid: the Store refuses the change
		}
		pub = append(pub, added)
	case "activate":
		if signer == "" {
			signer = kid
		}
	case "retire":
		pub = published(slices.DeleteFunc(slices.Clone(full), func(k SigningKey) bool { return k.KID == kid }))
	}
	if signer == "" || len(pub) == 0 {
		return nil, nil
	}
	if len(pub) > mint.MaxKeysetKeys {
		return nil, conflictf("At most %d signing keys can be published at once; retire one first", mint.MaxKeysetKeys)
	}
	prevIat := int64(0)
	prev, err := s.newestKeyset(ctx)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		prevIat = prev.iat
	}
	iat := s.now().UTC().Truncate(time.Second)
	if iat.Unix() <= prevIat {
		iat = time.Unix(prevIat+1, 0).UTC()
	}
	ev, err := s.signKeyset(full, signer, pub, iat, actor, requestID)
	if err != nil {
		return nil, err
	}
	ev.Details["op"] = op
	return []Event{ev}, nil
}

// signKeyset signs a statement listing pub with the stored key kid and
// wraps it in its audit event.
func (s *Server) signKeyset(full []SigningKey, kid string, pub [][]byte, iat time.Time, actor, requestID string) (Event, error) {
	signer, err := s.storedSigner(full, kid)
	if err != nil {
		return Event{}, err
	}
	jti := mint.NewID(mint.KeysetIDPrefix)
	jws, err := signer.Keyset(mint.Keyset{ID: jti, IssuedAt: iat, Keys: pub})
	if err != nil {
		return Event{}, fmt.Errorf("controlplane: keyset statement: %w", err)
	}
	kids, _ := statementKIDs(pub)
	return Event{Time: s.now(), Actor: actor, Action: keysetAction, Target: jti, RequestID: requestID,
		Details: map[string]string{"signed_by": kid, "keys": strings.Join(kids, " "),
			"iat": strconv.FormatInt(iat.Unix(), 10), keysetMember: jws}}, nil
}

// keysetOf is a stored statement and what the server reads of it.
type keysetOf struct {
	jws      string
	iat      int64
	kids     []string // sorted
	signedBy string
}

// newestKeyset returns the newest stored statement, or nil when there is
// none.
func (s *Server) newestKeyset(ctx context.Context) (*keysetOf, error) {
	list, _, err := s.store.ListEvents(ctx, EventFilter{Action: keysetAction, Page: Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	jws := list[0].Details[keysetMember]
	k, err := readKeyset(jws)
	if err != nil {
		return nil, err
	}
	k.signedBy = list[0].Details["signed_by"]
	return k, nil
}

// readKeyset reads the claims of a statement this server signed. It does
// not verify the signature: the statement is the server's own, and a
// product verifies it.
func readKeyset(jws string) (*keysetOf, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: stored keyset statement is not a compact JWS", ErrConflict)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: stored keyset statement: %v", ErrConflict, err)
	}
	var c struct {
		Iat  int64             `json:"iat"`
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: stored keyset statement: %v", ErrConflict, err)
	}
	pub := make([][]byte, len(c.Keys))
	for i, k := range c.Keys {
		pub[i] = k
	}
	kids, err := statementKIDs(pub)
	if err != nil {
		return nil, err
	}
	return &keysetOf{jws: jws, iat: c.Iat, kids: kids}, nil
}

// statementKIDs returns the sorted kids of public JWKs.
func statementKIDs(pub [][]byte) ([]string, error) {
	kids := make([]string, 0, len(pub))
	for _, p := range pub {
		var k struct {
			KID string `json:"kid"`
		}
		if err := json.Unmarshal(p, &k); err != nil {
			return nil, fmt.Errorf("%w: a public key: %v", ErrConflict, err)
		}
		kids = append(kids, k.KID)
	}
	slices.Sort(kids)
	return kids, nil
}

// currentKeyset returns the statement to hand out for the stored keys
// full. When the newest stored statement does not list exactly the keys
// published — a store from before statements existed, a first key that
// another process made, two changes racing — it makes and stores a new
// one, signed by the newest statement's signer when that key is still
// published, else by the active key. A failure is logged and leaves
// products without a statement until the next change; it never stops
// signing.
func (s *Server) currentKeyset(ctx context.Context, full []SigningKey) string {
	pub := published(full)
	want, _ := statementKIDs(pub)
	prev, err := s.newestKeyset(ctx)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "controlplane: reading the keyset statement", slog.String("error", err.Error()))
		return ""
	}
	if prev != nil && slices.Equal(prev.kids, want) {
		return prev.jws
	}
	signer := activeKID(full)
	if prev != nil && slices.ContainsFunc(full, func(k SigningKey) bool { return k.KID == prev.signedBy && k.State != SigningRetired }) {
		signer = prev.signedBy
	}
	iat := s.now().UTC().Truncate(time.Second)
	if prev != nil && iat.Unix() <= prev.iat {
		iat = time.Unix(prev.iat+1, 0).UTC()
	}
	ev, err := s.signKeyset(full, signer, pub, iat, "system", "")
	if err == nil {
		ev.Details["op"] = "repair"
		err = s.store.AppendEvents(ctx, ev)
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "controlplane: storing a keyset statement", slog.String("error", err.Error()))
		return ""
	}
	return ev.Details[keysetMember]
}

// keysetAnswer is the body of GET /.well-known/keyset.
type keysetAnswer struct {
	Keyset string `json:"keyset"`
}

// keyset serves the newest keyset statement.
func (s *Server) keyset(w http.ResponseWriter, r *http.Request, _ *principal) error {
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	if st.keyset == "" {
		return notFound("Keyset statement")
	}
	body, err := json.Marshal(keysetAnswer{Keyset: st.keyset})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
	return nil
}
