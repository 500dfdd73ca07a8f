package hebao

import (
	"context"
	"time"
)

// Paying an order by card is a top-up of the amount and the payment, as one
// operation (SPEC §5); auto top-up does the same for the shortfall of a balance
// payment, trying the customer's cards in their order. The bank answers later, so the
// top-up is recorded pending with its link to the order (OrderTopup); when the bank
// says yes, BankService.record credits the wallet and, in the same transaction,
// payFromTopup pays the order. If the order can no longer be paid by then (paid by
// someone else, closed, expired), or the payer's limits no longer allow it, the
// money stays in the wallet and the customer is told by the top-up's notification.

// startOrderTopup records, in tx, a pending top-up of amount from card to w, linked
// to order o. The caller starts it at the bank once tx commits.
func (s *BankService) startOrderTopup(ctx context.Context, tx Tx, w Wallet, card Card, o Order, amount int64, auto bool, now time.Time) (Movement, error) {
	limits, err := s.Tiers.orDefault().For(w.Tier)
	if err != nil {
		return Movement{}, err
	}
	if err := checkCap(ctx, tx, w, limits, amount, true); err != nil {
		return Movement{}, err
	}
	mch, err := tx.MerchantByID(ctx, o.MerchantID)
	if err != nil {
		return Movement{}, err
	}
	m := cardMovement(w, card, MovementTopup, amount, now)
	// The top-up shows what it pays for.
	m.Counterparty, m.CounterpartyName, m.Memo = mch.ID, mch.Name, o.Subject
	if err := tx.CreateMovement(ctx, m); err != nil {
		return Movement{}, err
	}
	if err := tx.CreateOrderTopup(ctx, OrderTopup{MovementID: m.ID, OrderID: o.ID, Auto: auto, CreatedAt: now}); err != nil {
		return Movement{}, err
	}
	return m, emitMovement(ctx, tx, m, 0)
}

// afterTopup is called by record in the transaction that finishes top-up m with
// status. A top-up made for an order pays it when it succeeded; an auto top-up that
// failed tries the customer's next card. It returns a new top-up to start after the
// commit, if any.
func (s *BankService) afterTopup(ctx context.Context, tx Tx, m Movement, status MovementStatus, w Wallet, now time.Time) (*Movement, error) {
	ot, err := tx.OrderTopup(ctx, m.ID)
	if ErrorCode(err) == CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o, err := tx.OrderByID(ctx, ot.OrderID)
	if err != nil {
		return nil, err
	}
	if status != MovementSucceeded {
		if !ot.Auto || payable(o, now) != nil {
			return nil, nil
		}
		next, err := nextCard(ctx, tx, w.CustomerID, m.CardID)
		if err != nil || next == nil {
			return nil, err
		}
		nm, err := s.startOrderTopup(ctx, tx, w, *next, o, m.Amount, true, now)
		if err != nil {
			return nil, nil // e.g. the balance cap: the payment is given up, the customer told by the failed top-up
		}
		return &nm, nil
	}
	if payable(o, now) != nil || CanPay(w) != nil {
		return nil, nil // the money stays in the wallet
	}
	// An auto top-up covered only the shortfall: the rest must still be there.
	bal, err := accountBalance(ctx, tx, w.Account)
	if err != nil {
		return nil, err
	}
	promo, err := promoAvailable(ctx, tx, w, o.Amount)
	if err != nil {
		return nil, err
	}
	if bal+promo < o.Amount {
		return nil, nil
	}
	limits, err := s.Tiers.orDefault().For(w.Tier)
	if err != nil {
		return nil, err
	}
	if err := chargeOutgoing(ctx, tx, w, limits, o.Amount, now); err != nil {
		if ErrorCode(err) == CodeLimitExceeded {
			return nil, nil
		}
		return nil, err
	}
	method := "card"
	if ot.Auto {
		method = "balance"
	}
	// Everything payOrder checks was checked above, so it fails only if the database
	// does, and then the whole record is retried.
	if !ot.Auto {
		o.CardID = m.CardID // refunds go back to it
	}
	_, _, err = payOrder(ctx, tx, o, w, method, now)
	return nil, err
}

// nextCard returns the customer's card after cardID in their order, or nil.
func nextCard(ctx context.Context, tx Tx, customerID, cardID string) (*Card, error) {
	cards, err := tx.Cards(ctx, customerID)
	if err != nil {
		return nil, err
	}
	for i, c := range cards {
		if c.ID == cardID && i+1 < len(cards) {
			return &cards[i+1], nil
		}
	}
	return nil, nil
}

// StartPending starts at the bank a top-up recorded by startOrderTopup, once its
// transaction has committed.
func (s *BankService) StartPending(m Movement) {
	s.init()
	s.start(m)
}

// afterCardRefund is called by record in the transaction that finishes m, a refund to
// a card. The merchant's webhook is owed now that the refund is done; if the card did
// not take it, the money went to the wallet instead, which the customer's history shows
// as a refund of its own.
func afterCardRefund(ctx context.Context, tx Tx, m Movement, status MovementStatus, w Wallet, balance int64, now time.Time) error {
	r, err := tx.RefundByID(ctx, m.Ref)
	if err != nil {
		return err
	}
	o, err := tx.OrderByID(ctx, r.OrderID)
	if err != nil {
		return err
	}
	if status != MovementSucceeded {
		mv := Movement{ID: NewID("mov"), WalletID: w.ID, Account: w.Account, CustomerID: w.CustomerID, Kind: MovementRefund,
			Status: MovementSucceeded, Amount: m.Amount, Counterparty: m.Counterparty, CounterpartyName: m.CounterpartyName,
			Memo: m.Memo, Ref: r.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateMovement(ctx, mv); err != nil {
			return err
		}
		if err := emitMovement(ctx, tx, mv, balance); err != nil {
			return err
		}
	}
	r.Status = "SUCCESS"
	return oweEvent(ctx, tx, o, EventRefundSucceeded, r.MerchantView(o), now)
}
