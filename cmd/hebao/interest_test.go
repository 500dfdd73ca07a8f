package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb"
)

// TestInterestAccrue runs `hebao interest accrue` on a ledger with one real-named
// wallet funded three days ago: a day, the same day again (paid once), then every
// day due; `hebao verify` passes after.
func TestInterestAccrue(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if _, _, err := run(t, nil, "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	china := time.FixedZone("CST", 8*3600)
	y, mo, d := time.Now().In(china).Date()
	funded := time.Date(y, mo, d, 10, 0, 0, 0, china).AddDate(0, 0, -3)
	first := funded.Format(time.DateOnly)
	wallet := seedInterestWallet(t, dir, funded)

	m := &Main{Getenv: func(string) string { return "" }}
	var out, errOut syncBuffer
	m.Stdout, m.Stderr = &out, &errOut
	args := []string{"accrue", "--date", first, "--data-dir", dir, "--rate-ppm", "3500"}
	if err := m.interest(ctx, args); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	// 1,000,000 fen × 3,500 ppm / 360 days = 9.72 fen.
	if want := "interest " + first + ": 1 wallets accrued ¥0.09 at 3500 ppm a year (basis 360 days)"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("printed %q, want %q…", out.String(), want)
	}
	if err := m.interest(ctx, args); err != nil {
		t.Fatal(err)
	}
	if err := m.interest(ctx, []string{"accrue", "--data-dir", dir}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 4 { // first, first again, and the two days after it
		t.Errorf("printed %d lines:\n%s", n, out.String())
	}
	if _, _, err := run(t, nil, "verify", "--data-dir", dir); err != nil {
		t.Fatalf("verify: %v", err)
	}
	db := openInterestDB(t, dir, time.Now)
	err := db.View(ctx, func(tx hebao.Tx) error {
		a, err := tx.WalletInterest(ctx, wallet)
		if err == nil && a.Accrued != 3*1_000_000*3_500 {
			t.Errorf("accrued %d over three days, want %d", a.Accrued, 3*1_000_000*3_500)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.interest(ctx, []string{"accrue", "--date", "2026-02-30", "--data-dir", dir}); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("a bad date: %v", err)
	}
}

func openInterestDB(t *testing.T, dir string, now func() time.Time) *sqldb.DB {
	t.Helper()
	k, err := loadKeys(filepath.Join(dir, "keys.json"), false)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: dir, LedgerKey: k.Ledger, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// seedInterestWallet opens a tier-3 wallet holding ¥10,000.00 at at, and returns
// its id.
func seedInterestWallet(t *testing.T, dir string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	db := openInterestDB(t, dir, func() time.Time { return at })
	w := hebao.Wallet{ID: hebao.NewID("wal"), CustomerID: hebao.NewID("cus"), Status: hebao.WalletActive, Tier: 3, CreatedAt: at}
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.CreateCustomer(ctx, hebao.Customer{ID: w.CustomerID, Phone: "13800000001", PasswordHash: "x", CreatedAt: at}); err != nil {
			return err
		}
		funding, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		for kind, id := range map[hebao.AccountKind]*hebao.AccountID{hebao.AccountWallet: &w.Account, hebao.AccountPromo: &w.PromoAccount, hebao.AccountPoints: &w.PointsAccount} {
			a, err := hebao.NewAccount(kind, w.ID, "", false)
			if err != nil {
				return err
			}
			if a, err = tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			*id = a.ID
		}
		if err := tx.CreateWallet(ctx, w); err != nil {
			return err
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferTest, Postings: hebao.Move(funding.ID, w.Account, hebao.CNY, 1_000_000)})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return w.ID
}
