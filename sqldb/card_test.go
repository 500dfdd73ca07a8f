package sqldb

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestCardStore(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		alice := hebao.Customer{ID: "cus_a", Phone: "13800138000", PasswordHash: "$argon2id$x", CreatedAt: t0}
		card := func(id, customer, lookup string, pos int) hebao.Card {
			return hebao.Card{ID: id, CustomerID: customer, NumberSealed: "v1.k1." + id, NumberLookup: lookup,
				BankCode: "ICBC", BankName: "中国工商银行", Masked: "6222 02** **** 1234", Last4: "1234", Position: pos, CreatedAt: t0}
		}
		c1, c2 := card("card_1", "cus_a", "l1", 0), card("card_2", "cus_a", "l2", 1)
		transact(t, db, func(tx hebao.Tx) error {
			for _, c := range []hebao.Customer{alice, {ID: "cus_b", Phone: "13700137000", PasswordHash: "h", CreatedAt: t0}} {
				if err := tx.CreateCustomer(ctx, c); err != nil {
					return err
				}
			}
			for _, c := range []hebao.Card{c1, c2, card("card_3", "cus_b", "l1", 0)} { // one card, two customers
				if err := tx.CreateCard(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.CreateCard(ctx, card("card_4", "cus_a", "l1", 2)) })
		if hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("the same card twice: %v, want conflict", err)
		}
		err = db.Transact(ctx, func(tx hebao.Tx) error { return tx.SetCardPosition(ctx, "cus_b", "card_1", 5) })
		if hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("ordering another customer's card: %v, want not_found", err)
		}
		transact(t, db, func(tx hebao.Tx) error {
			if err := tx.SetCardPosition(ctx, "cus_a", "card_1", 1); err != nil {
				return err
			}
			return tx.SetCardPosition(ctx, "cus_a", "card_2", 0)
		})
		c1.Position, c2.Position = 1, 0
		var deleted [2]bool
		transact(t, db, func(tx hebao.Tx) error {
			got, err := tx.CustomerByID(ctx, "cus_a")
			if err != nil {
				return err
			}
			if d := cmp.Diff(alice, got); d != "" {
				t.Errorf("customer (-want +got):\n%s", d)
			}
			if _, err := tx.CustomerByID(ctx, "cus_x"); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("missing customer: %v", err)
			}
			cards, err := tx.Cards(ctx, "cus_a")
			if err != nil {
				return err
			}
			if d := cmp.Diff([]hebao.Card{c2, c1}, cards); d != "" {
				t.Errorf("cards (-want +got):\n%s", d)
			}
			if deleted[0], err = tx.DeleteCard(ctx, "cus_b", "card_1"); err != nil {
				return err
			}
			deleted[1], err = tx.DeleteCard(ctx, "cus_a", "card_1")
			return err
		})
		if deleted != [2]bool{false, true} {
			t.Errorf("deleted %v, want another customer's card kept and the owner's removed", deleted)
		}
		err = db.View(ctx, func(tx hebao.Tx) error {
			cards, err := tx.Cards(ctx, "cus_a")
			if len(cards) != 1 || cards[0].ID != "card_2" {
				t.Errorf("cards after delete: %+v", cards)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
