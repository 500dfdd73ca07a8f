package sqldb

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestSessionStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		sess := func(id, customer string, used time.Time) hebao.Session {
			return hebao.Session{ID: id, TokenHash: hebao.TokenHash(id), CustomerID: customer, DeviceID: "dev-" + id, CreatedAt: t0, LastUsedAt: used}
		}
		s1, s2, s3 := sess("s1", "cus_1", t0), sess("s2", "cus_1", t0.Add(time.Hour)), sess("s3", "cus_2", t0)
		transact(t, db, func(tx hebao.Tx) error {
			for _, c := range []string{"cus_1", "cus_2"} {
				if err := tx.CreateCustomer(ctx, hebao.Customer{ID: c, Phone: "1380013800" + c[4:], PasswordHash: "h", CreatedAt: t0}); err != nil {
					return err
				}
			}
			for _, s := range []hebao.Session{s1, s2, s3} {
				if err := tx.CreateSession(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		// Every lookup is made twice, in a View and by FindSession (one statement,
		// what authentication uses), and both must answer the same.
		lookup := func(s hebao.Session) (hebao.Session, error) {
			t.Helper()
			var got hebao.Session
			err := db.View(ctx, func(tx hebao.Tx) (err error) {
				got, err = tx.SessionByToken(ctx, s.TokenHash)
				return err
			})
			found, now, ferr := db.FindSession(ctx, s.TokenHash)
			if !cmp.Equal(got, found) || hebao.ErrorCode(err) != hebao.ErrorCode(ferr) || (err == nil) != (ferr == nil) {
				t.Errorf("FindSession = %+v, %v; a View read %+v, %v", found, ferr, got, err)
			}
			if now.IsZero() || time.Since(now) > time.Minute {
				t.Errorf("FindSession's now is %v", now)
			}
			return got, err
		}
		if got, err := lookup(s1); err != nil || !cmp.Equal(s1, got) {
			t.Fatalf("SessionByToken = %+v, %v; want %+v", got, err, s1)
		}

		// Touching moves the last use forward, never back.
		transact(t, db, func(tx hebao.Tx) error {
			if err := tx.TouchSession(ctx, s1.ID, t0.Add(2*time.Minute)); err != nil {
				return err
			}
			return tx.TouchSession(ctx, s1.ID, t0.Add(time.Minute))
		})
		if got, _ := lookup(s1); !got.LastUsedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("last used %v, want %v", got.LastUsedAt, t0.Add(2*time.Minute))
		}

		// Idle sessions of one customer, then all of them.
		var idle, all int
		var gone bool
		transact(t, db, func(tx hebao.Tx) (err error) {
			if idle, err = tx.DeleteSessions(ctx, "cus_1", t0.Add(30*time.Minute)); err != nil {
				return err
			}
			if gone, err = tx.DeleteSession(ctx, s3.ID); err != nil {
				return err
			}
			all, err = tx.DeleteSessions(ctx, "cus_1", time.Time{})
			return err
		})
		if idle != 1 || all != 1 || !gone {
			t.Errorf("deleted %d idle, %d then, s3 %v; want 1, 1, true", idle, all, gone)
		}
		for _, s := range []hebao.Session{s1, s2, s3} {
			if _, err := lookup(s); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("session %s after deletion: %v, want not_found", s.ID, err)
			}
		}
	})
}

func TestLoginFailureStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		transact(t, db, func(tx hebao.Tx) error {
			for _, m := range []int{3, 0, 1, 1} {
				if err := tx.AddLoginFailure(ctx, "13800138000", at(m)); err != nil {
					return err
				}
			}
			return tx.AddLoginFailure(ctx, "staff:root", at(2))
		})
		get := func(subject string, since time.Time) []time.Time {
			var out []time.Time
			transact(t, db, func(tx hebao.Tx) (err error) {
				out, err = tx.LoginFailures(ctx, subject, since)
				return err
			})
			return out
		}
		if diff := cmp.Diff([]time.Time{at(1), at(1), at(3)}, get("13800138000", at(1))); diff != "" {
			t.Errorf("failures since minute 1 (-want +got):\n%s", diff)
		}
		transact(t, db, func(tx hebao.Tx) error { return tx.DeleteLoginFailures(ctx, "13800138000", at(2)) })
		if diff := cmp.Diff([]time.Time{at(3)}, get("13800138000", time.Time{})); diff != "" {
			t.Errorf("after forgetting those before minute 2 (-want +got):\n%s", diff)
		}
		transact(t, db, func(tx hebao.Tx) error { return tx.DeleteLoginFailures(ctx, "13800138000", time.Time{}) })
		if got := get("13800138000", time.Time{}); len(got) != 0 {
			t.Errorf("after forgetting all: %v", got)
		}
		if got := get("staff:root", time.Time{}); len(got) != 1 {
			t.Errorf("another subject's failures: %v, want one", got)
		}
	})
}

func TestStaffStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		st := hebao.Staff{ID: "stf_1", Username: "alice", PasswordHash: "h", Role: hebao.RoleAdmin, CreatedAt: t0}
		sess := hebao.StaffSession{ID: "sts_1", TokenHash: hebao.TokenHash("t"), StaffID: st.ID, CreatedAt: t0, LastUsedAt: t0}
		transact(t, db, func(tx hebao.Tx) error {
			if err := tx.CreateStaff(ctx, st); err != nil {
				return err
			}
			return tx.CreateStaffSession(ctx, sess)
		})
		dup := st
		dup.ID = "stf_2"
		if err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.CreateStaff(ctx, dup) }); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("same username: %v, want conflict", err)
		}
		transact(t, db, func(tx hebao.Tx) error { return tx.TouchStaffSession(ctx, sess.ID, t0.Add(time.Hour)) })
		err := db.View(ctx, func(tx hebao.Tx) error {
			for _, get := range []func() (hebao.Staff, error){
				func() (hebao.Staff, error) { return tx.StaffByUsername(ctx, "alice") },
				func() (hebao.Staff, error) { return tx.StaffByID(ctx, "stf_1") },
			} {
				if got, err := get(); err != nil || !cmp.Equal(st, got) {
					t.Errorf("staff = %+v, %v; want %+v", got, err, st)
				}
			}
			if _, err := tx.StaffByUsername(ctx, "bob"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("unknown username: %v, want not_found", err)
			}
			got, err := tx.StaffSessionByToken(ctx, sess.TokenHash)
			want := sess
			want.LastUsedAt = t0.Add(time.Hour)
			if err != nil || !cmp.Equal(want, got) {
				t.Errorf("staff session = %+v, %v; want %+v", got, err, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// One desk signs out: only its session goes.
		other := hebao.StaffSession{ID: "sts_2", TokenHash: hebao.TokenHash("t2"), StaffID: st.ID, CreatedAt: t0, LastUsedAt: t0}
		transact(t, db, func(tx hebao.Tx) error { return tx.CreateStaffSession(ctx, other) })
		var gone [2]bool
		transact(t, db, func(tx hebao.Tx) (err error) {
			if gone[0], err = tx.DeleteStaffSession(ctx, other.ID); err != nil {
				return err
			}
			gone[1], err = tx.DeleteStaffSession(ctx, other.ID)
			return err
		})
		if gone != [2]bool{true, false} {
			t.Errorf("deleting one staff session twice reported %v, want [true false]", gone)
		}
		err = db.View(ctx, func(tx hebao.Tx) error {
			if _, err := tx.StaffSessionByToken(ctx, other.TokenHash); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("a deleted staff session: %v, want not_found", err)
			}
			_, err := tx.StaffSessionByToken(ctx, sess.TokenHash)
			return err
		})
		if err != nil {
			t.Fatalf("the other staff session: %v", err)
		}
		var n int
		transact(t, db, func(tx hebao.Tx) (err error) {
			n, err = tx.DeleteStaffSessions(ctx, st.ID, time.Time{})
			return err
		})
		if n != 1 {
			t.Errorf("deleted %d staff sessions, want 1", n)
		}
	})
}
