package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestIdentityStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		transact(t, db, func(tx hebao.Tx) error {
			for i, id := range []string{"cus_1", "cus_2"} {
				c := hebao.Customer{ID: id, Phone: "1380013800" + string(rune('0'+i)), PasswordHash: "$argon2id$x", CreatedAt: t0}
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
				a, _ := hebao.NewAccount(hebao.AccountWallet, "wal_"+id, "", false)
				a, err := tx.CreateAccount(ctx, a)
				if err != nil {
					return err
				}
				w := hebao.Wallet{ID: "wal_" + id, CustomerID: id, Status: hebao.WalletActive, Tier: 4,
					Account: a.ID, PromoAccount: a.ID, PointsAccount: a.ID, CreatedAt: t0}
				if err := tx.CreateWallet(ctx, w); err != nil {
					return err
				}
			}
			return nil
		})
		want := hebao.Identity{CustomerID: "cus_1", NameSealed: "v1.k1.name", IDNumberSealed: "v1.k1.id", IDLookup: "lookup-1", CreatedAt: t0}
		transact(t, db, func(tx hebao.Tx) error {
			if err := tx.CreateIdentity(ctx, want); err != nil {
				return err
			}
			return tx.SetWalletTier(ctx, "wal_cus_1", 3)
		})

		for name, id := range map[string]hebao.Identity{
			"same customer":  {CustomerID: "cus_1", NameSealed: "n", IDNumberSealed: "i", IDLookup: "lookup-2", CreatedAt: t0},
			"same ID number": {CustomerID: "cus_2", NameSealed: "n", IDNumberSealed: "i", IDLookup: "lookup-1", CreatedAt: t0},
		} {
			err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.CreateIdentity(ctx, id) })
			if hebao.ErrorCode(err) != hebao.CodeConflict {
				t.Errorf("%s: err = %v, want conflict", name, err)
			}
		}
		err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.SetWalletTier(ctx, "wal_nope", 3) })
		if hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("tier of a missing wallet: %v, want not_found", err)
		}

		err = db.View(ctx, func(tx hebao.Tx) error {
			for _, get := range []func() (hebao.Identity, error){
				func() (hebao.Identity, error) { return tx.IdentityByCustomer(ctx, "cus_1") },
				func() (hebao.Identity, error) { return tx.IdentityByLookup(ctx, "lookup-1") },
			} {
				got, err := get()
				if err != nil {
					return err
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("identity (-want +got):\n%s", d)
				}
			}
			if _, err := tx.IdentityByCustomer(ctx, "cus_2"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("cus_2's identity: %v, want not_found", err)
			}
			if _, err := tx.IdentityByLookup(ctx, "lookup-x"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("unknown lookup: %v, want not_found", err)
			}
			w, err := tx.WalletByCustomer(ctx, "cus_1")
			if err != nil {
				return err
			}
			if w.Tier != 3 {
				t.Errorf("tier = %d, want 3", w.Tier)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestPaymentPasswordStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		oneWallet(t, db, t0)
		p := hebao.PaymentPassword{WalletID: "wal_1", Hash: [32]byte{1, 2, 3}, UpdatedAt: t0}
		locked := p
		locked.Hash[0] = 9
		locked.State = hebao.PaymentPasswordState{Failures: 5, LockedUntil: t0.Add(3 * time.Hour)}
		for _, want := range []hebao.PaymentPassword{p, locked, p} {
			transact(t, db, func(tx hebao.Tx) error { return tx.SavePaymentPassword(ctx, want) })
			err := db.View(ctx, func(tx hebao.Tx) error {
				got, err := tx.PaymentPassword(ctx, "wal_1")
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("payment password (-want +got):\n%s", d)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		err := db.View(ctx, func(tx hebao.Tx) error {
			_, err := tx.PaymentPassword(ctx, "wal_2")
			return err
		})
		if hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("no payment password: %v, want not_found", err)
		}
	})
}

// TestConcurrentRealName gives one ID number to 10 wallets at once, on two handles
// of one database (two processes): exactly one gets it, the others conflict, and
// only its wallet moves to tier 3.
func TestConcurrentRealName(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		clock := &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		raw, err := hebao.GenerateKeyring()
		if err != nil {
			t.Fatal(err)
		}
		keys, err := hebao.ParseKeyring(raw)
		if err != nil {
			t.Fatal(err)
		}
		const n = 10
		ids := make([]string, n)
		for i := range n {
			r, err := customers(dbs[0], anyCode{}, clock).Register(context.Background(), hebao.Registration{
				Phone: fmt.Sprintf("138001380%02d", i), OTP: "123456", Password: "correct horse", DeviceID: "dev-a",
			})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = r.Customer.ID
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := &hebao.IdentityService{Store: dbs[i%2], Keys: keys, Now: clock.Now}
			wg.Go(func() {
				_, errs[i] = svc.SetRealName(context.Background(), ids[i], "张三", "11010519491231002X")
			})
		}
		wg.Wait()
		count := map[string]int{}
		for _, err := range errs {
			count[hebao.ErrorCode(err)]++
		}
		if d := cmp.Diff(map[string]int{"": 1, "conflict": n - 1}, count); d != "" {
			t.Errorf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		for q, want := range map[string]int64{
			`SELECT COUNT(*) FROM identities`:             1,
			`SELECT COUNT(*) FROM wallets WHERE tier = 3`: 1,
		} {
			if got := rawInt(t, dbs[0], q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
	})
}
