package sqldb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestCustomerStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		c := hebao.Customer{ID: "cus_1", Phone: "13800138000", PasswordHash: "$argon2id$x", CreatedAt: t0}
		var w hebao.Wallet
		transact(t, db, func(tx hebao.Tx) error {
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			var ids [3]hebao.AccountID
			for i, k := range []hebao.AccountKind{hebao.AccountWallet, hebao.AccountPromo, hebao.AccountPoints} {
				a, _ := hebao.NewAccount(k, "wal_1", "", false)
				a, err := tx.CreateAccount(ctx, a)
				if err != nil {
					return err
				}
				ids[i] = a.ID
			}
			w = hebao.Wallet{ID: "wal_1", CustomerID: c.ID, Status: hebao.WalletActive, Tier: 4,
				Account: ids[0], PromoAccount: ids[1], PointsAccount: ids[2], CreatedAt: t0}
			if err := tx.CreateWallet(ctx, w); err != nil {
				return err
			}
			for range 2 { // a known device again changes nothing
				if err := tx.AddDevice(ctx, hebao.Device{CustomerID: c.ID, ID: "dev-a", FirstSeenAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})

		for name, fn := range map[string]func(tx hebao.Tx) error{
			"same phone": func(tx hebao.Tx) error {
				return tx.CreateCustomer(ctx, hebao.Customer{ID: "cus_2", Phone: c.Phone, PasswordHash: "h", CreatedAt: t0})
			},
			"second wallet": func(tx hebao.Tx) error {
				w2 := w
				w2.ID = "wal_2"
				return tx.CreateWallet(ctx, w2)
			},
		} {
			if err := db.Transact(ctx, fn); hebao.ErrorCode(err) != hebao.CodeConflict {
				t.Errorf("%s: err = %v, want conflict", name, err)
			}
		}

		err := db.View(ctx, func(tx hebao.Tx) error {
			got, err := tx.CustomerByPhone(ctx, c.Phone)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(c, got); diff != "" {
				t.Errorf("customer (-want +got):\n%s", diff)
			}
			if _, err := tx.CustomerByPhone(ctx, "13900139000"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("unknown phone: %v, want not_found", err)
			}
			gotW, err := tx.WalletByCustomer(ctx, c.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(w, gotW); diff != "" {
				t.Errorf("wallet (-want +got):\n%s", diff)
			}
			if _, err := tx.WalletByCustomer(ctx, "cus_nope"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("no wallet: %v, want not_found", err)
			}
			for dev, want := range map[string]bool{"dev-a": true, "dev-b": false} {
				if known, err := tx.KnownDevice(ctx, c.ID, dev); err != nil || known != want {
					t.Errorf("KnownDevice(%s) = %v, %v; want %v", dev, known, err, want)
				}
			}
			// A View refuses writes.
			if err := tx.AddDevice(ctx, hebao.Device{CustomerID: c.ID, ID: "dev-c"}); err == nil {
				t.Error("AddDevice in a View succeeded")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM devices`); n != 1 {
			t.Errorf("%d devices stored, want 1", n)
		}
	})
}

func TestAuditStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		var want []hebao.AuditRecord
		for i := range 5 {
			want = append(want, hebao.AuditRecord{
				ID: fmt.Sprintf("aud_%d", i), At: t0.Add(time.Duration(i) * time.Second),
				Actor: hebao.Actor{Kind: hebao.ActorCustomer, ID: "cus_1"}, Action: hebao.ActionLogin,
				Subject: "cus_1", RequestID: fmt.Sprintf("req-%d", i), Detail: map[string]string{"device_id": "dev-a", "n": fmt.Sprint(i)},
			})
		}
		for _, r := range want {
			transact(t, db, func(tx hebao.Tx) error { return tx.AddAudit(ctx, r) })
		}
		var newest, older []hebao.AuditRecord
		err := db.View(ctx, func(tx hebao.Tx) (err error) {
			if newest, err = tx.AuditLog(ctx, 0, 3); err != nil {
				return err
			}
			older, err = tx.AuditLog(ctx, newest[2].Seq, 3)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got := append(newest, older...)
		if len(got) != 5 || got[0].Seq <= got[1].Seq {
			t.Fatalf("got %d records, seqs not descending: %+v", len(got), got)
		}
		for i := range got {
			got[i].Seq = 0
		}
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit log, newest first (-want +got):\n%s", diff)
		}
		// Append-only: the database itself refuses edits and deletions.
		for _, q := range []string{`UPDATE audit_log SET action = 'nothing'`, `DELETE FROM audit_log`} {
			if _, err := rawExec(t, db, q); err == nil {
				t.Errorf("%s succeeded", q)
			}
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, hebao.ActionLogin); n != 5 {
			t.Errorf("%d records left, want 5", n)
		}
	})
}
