package sqldb

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestWalletStatusStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		var want hebao.Wallet
		transact(t, db, func(tx hebao.Tx) error {
			c := hebao.Customer{ID: "cus_1", Phone: "13800138000", PasswordHash: "$argon2id$x", CreatedAt: t0}
			if err := tx.CreateCustomer(ctx, c); err != nil {
				return err
			}
			a, _ := hebao.NewAccount(hebao.AccountWallet, "wal_1", "", false)
			a, err := tx.CreateAccount(ctx, a)
			if err != nil {
				return err
			}
			want = hebao.Wallet{ID: "wal_1", CustomerID: "cus_1", Status: hebao.WalletActive, Tier: 4,
				Account: a.ID, PromoAccount: a.ID, PointsAccount: a.ID, CreatedAt: t0}
			return tx.CreateWallet(ctx, want)
		})
		transact(t, db, func(tx hebao.Tx) error {
			return tx.SetWalletStatus(ctx, "wal_1", hebao.WalletFrozen)
		})
		want.Status = hebao.WalletFrozen
		err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.SetWalletStatus(ctx, "wal_nope", hebao.WalletFrozen) })
		if hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("status of a missing wallet: %v, want not_found", err)
		}
		err = db.View(ctx, func(tx hebao.Tx) error {
			if err := tx.SetWalletStatus(ctx, "wal_1", hebao.WalletActive); err == nil {
				t.Errorf("a read-only snapshot set a status")
			}
			got, err := tx.WalletByID(ctx, "wal_1")
			if err != nil {
				return err
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("wallet (-want +got):\n%s", d)
			}
			if _, err := tx.WalletByID(ctx, "wal_nope"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("missing wallet: %v, want not_found", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
