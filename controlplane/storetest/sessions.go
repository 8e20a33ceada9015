package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/licensekit/licensekit/controlplane"
)

func session(id string) controlplane.Session {
	return controlplane.Session{
		ID: id, KeyID: "key_1", SecretTag: "tag-" + id, CSRF: "csrf-" + id,
		CreatedAt: t0, SeenAt: t0, ExpiresAt: at(24 * time.Hour),
	}
}

var sessionTests = []subtest{
	{"CreateGetWithEvent", func(t *testing.T, s controlplane.Store) {
		sess := session("s1")
		noErr(t, "CreateSession", s.CreateSession(ctx, sess, event("console.login", "key_1", "ten_a", t0)))
		got, err := s.GetSession(ctx, "s1")
		noErr(t, "GetSession", err)
		same(t, "session", sess, got)
		evs := allEvents(t, s)
		if len(evs) != 1 || evs[0].Action != "console.login" || evs[0].Target != "key_1" {
			t.Fatalf("events after CreateSession: %+v", evs)
		}
	}},
	{"Refusals", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSession", s.CreateSession(ctx, session("s1")))
		other := session("s1")
		other.KeyID = "key_2"
		wantErr(t, "CreateSession of a known id", s.CreateSession(ctx, other, event("console.login", "key_2", "", t0)), controlplane.ErrAlreadyExists)
		got, err := s.GetSession(ctx, "s1")
		noErr(t, "GetSession", err)
		if got.KeyID != "key_1" {
			t.Fatalf("a refused CreateSession replaced the session: %+v", got)
		}
		wantEventCount(t, s, 0)
		_, err = s.GetSession(ctx, "nope")
		wantErr(t, "GetSession unknown", err, controlplane.ErrNotFound)
		wantErr(t, "TouchSession unknown", s.TouchSession(ctx, "nope", at(time.Hour)), controlplane.ErrNotFound)
		wantErr(t, "DeleteSession unknown", s.DeleteSession(ctx, "nope"), controlplane.ErrNotFound)
		bad := session("s2")
		bad.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		wantErr(t, "CreateSession with a time past 9999", s.CreateSession(ctx, bad), controlplane.ErrInvalid)
		_, err = s.GetSession(ctx, "s2")
		wantErr(t, "GetSession of a refused session", err, controlplane.ErrNotFound)
	}},
	{"TouchOnlyMovesForward", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSession", s.CreateSession(ctx, session("s1")))
		noErr(t, "TouchSession", s.TouchSession(ctx, "s1", at(time.Hour)))
		noErr(t, "TouchSession earlier", s.TouchSession(ctx, "s1", at(time.Minute)))
		got, err := s.GetSession(ctx, "s1")
		noErr(t, "GetSession", err)
		same(t, "SeenAt", at(time.Hour), got.SeenAt)
		same(t, "ExpiresAt stays", at(24*time.Hour), got.ExpiresAt)
	}},
	{"Delete", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSession", s.CreateSession(ctx, session("s1")))
		noErr(t, "CreateSession", s.CreateSession(ctx, session("s2")))
		noErr(t, "DeleteSession", s.DeleteSession(ctx, "s1"))
		_, err := s.GetSession(ctx, "s1")
		wantErr(t, "GetSession after delete", err, controlplane.ErrNotFound)
		_, err = s.GetSession(ctx, "s2")
		noErr(t, "the other session", err)
		wantErr(t, "DeleteSession twice", s.DeleteSession(ctx, "s1"), controlplane.ErrNotFound)
	}},
	{"DeleteExpired", func(t *testing.T, s controlplane.Store) {
		ended := session("ended") // past its absolute end
		ended.ExpiresAt = at(time.Hour)
		idle := session("idle") // not seen since t0
		busy := session("busy")
		busy.SeenAt = at(5 * time.Hour)
		for _, sess := range []controlplane.Session{ended, idle, busy} {
			noErr(t, "CreateSession", s.CreateSession(ctx, sess))
		}
		n, err := s.DeleteExpiredSessions(ctx, at(time.Hour), at(2*time.Hour))
		noErr(t, "DeleteExpiredSessions", err)
		if n != 2 {
			t.Fatalf("DeleteExpiredSessions removed %d, want 2", n)
		}
		for id, want := range map[string]bool{"ended": false, "idle": false, "busy": true} {
			_, err := s.GetSession(ctx, id)
			if (err == nil) != want {
				t.Errorf("session %s after DeleteExpiredSessions: err %v, want kept %v", id, err, want)
			}
		}
		n, err = s.DeleteExpiredSessions(ctx, at(time.Hour), at(2*time.Hour))
		noErr(t, "DeleteExpiredSessions again", err)
		if n != 0 {
			t.Fatalf("a second DeleteExpiredSessions removed %d, want 0", n)
		}
	}},
	{"ConcurrentTouches", func(t *testing.T, s controlplane.Store) {
		noErr(t, "CreateSession", s.CreateSession(ctx, session("s1")))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if err := s.TouchSession(ctx, "s1", at(time.Duration(i+1)*time.Minute)); err != nil {
					t.Errorf("TouchSession: %v", err)
				}
			})
		}
		wg.Wait()
		got, err := s.GetSession(ctx, "s1")
		noErr(t, "GetSession", err)
		same(t, "SeenAt after concurrent touches", at(8*time.Minute), got.SeenAt)
	}},
}
