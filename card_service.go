package hebao

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// The public codes of a card that cannot be bound for who the customer is (422).
const (
	// CodeRealNameRequired: the customer must give a real name before this step.
	CodeRealNameRequired = "real_name_required"
	// CodeCardHolderMismatch: the holder name is not the customer's real name.
	CodeCardHolderMismatch = "card_holder_mismatch"
)

// The audit actions of cards.
const (
	ActionCardBind    = "card.bind"
	ActionCardRemove  = "card.remove"
	ActionCardReorder = "card.reorder"
)

// Card is a bank card bound to a customer's wallet (SPEC §4). The full number is kept
// only sealed, with the customer id as additional data, and as its keyed hash
// (Keyring.Lookup with LookupCardNumber); Masked and Last4 are what is ever shown.
type Card struct {
	ID           string
	CustomerID   string
	NumberSealed string
	NumberLookup string
	BankCode     string
	BankName     string
	Masked       string
	Last4        string
	Position     int // the customer's order, 0 first
	CreatedAt    time.Time
}

// CardTx is the part of Tx that keeps bound cards.
type CardTx interface {
	// CustomerByID returns the customer; not_found if none.
	CustomerByID(ctx context.Context, id string) (Customer, error)
	// CreateCard stores a new card; conflict if the customer has a card with the
	// same NumberLookup.
	CreateCard(ctx context.Context, c Card) error
	// Cards returns the customer's cards in the customer's order.
	Cards(ctx context.Context, customerID string) ([]Card, error)
	// DeleteCard removes the customer's card with the given id and reports whether
	// there was one.
	DeleteCard(ctx context.Context, customerID, id string) (bool, error)
	// SetCardPosition sets the position of the customer's card with the given id;
	// not_found if the customer has no such card.
	SetCardPosition(ctx context.Context, customerID, id string, position int) error
}

// CardService binds, lists, orders and removes customers' bank cards (SPEC §4).
type CardService struct {
	Store Store
	// Keys seals the numbers and opens the real name to compare the holder with.
	Keys *Keyring
	// OTP checks the bind_card SMS code.
	OTP OTPChecker
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// BindCard is what binding a card takes (POST /v1/cards).
type BindCard struct {
	CustomerID string
	Number     string
	HolderName string
	OTP        string // the code sent for purpose bind_card
}

// Bind binds a card: the number must pass ParseCardNumber, the customer must have a
// real name and the holder name must be it, and the bind_card SMS code is spent in
// the transaction that stores the card, last in the customer's order.
// Errors: invalid_request (code format), card_number_invalid, card_bank_unknown,
// real_name_required, card_holder_mismatch, otp_invalid, otp_expired, conflict (the
// card is bound already), not_found (no such customer).
func (s *CardService) Bind(ctx context.Context, b BindCard) (Card, error) {
	if !validOTPCode(b.OTP) {
		return Card{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	number, bank, err := ParseCardNumber(b.Number)
	if err != nil {
		return Card{}, err
	}
	var phone, name string
	err = s.Store.View(ctx, func(tx Tx) error {
		c, err := tx.CustomerByID(ctx, b.CustomerID)
		if err != nil {
			return err
		}
		phone = c.Phone
		id, err := tx.IdentityByCustomer(ctx, b.CustomerID)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeRealNameRequired, "give your real name (POST /v1/wallet/real-name) before binding a card")
		}
		if err != nil {
			return err
		}
		n, err := s.Keys.Open(id.NameSealed, []byte(b.CustomerID))
		name = string(n)
		return err
	})
	if err != nil {
		return Card{}, err
	}
	if b.HolderName != name {
		return Card{}, Errorf(CodeCardHolderMismatch, "the card holder's name must be your real name, as on your ID card")
	}
	pass, err := s.OTP.Check(ctx, phone, PurposeBindCard, b.OTP)
	if err != nil {
		return Card{}, err
	}
	sealed, err := s.Keys.Seal([]byte(number), []byte(b.CustomerID))
	if err != nil {
		return Card{}, err
	}
	var out Card
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		if err := s.OTP.Use(ctx, tx, pass); err != nil {
			return err
		}
		cards, err := tx.Cards(ctx, b.CustomerID)
		if err != nil {
			return err
		}
		pos := 0
		for _, c := range cards {
			pos = max(pos, c.Position+1)
		}
		c := Card{
			ID: NewID("card"), CustomerID: b.CustomerID, NumberSealed: sealed,
			NumberLookup: s.Keys.Lookup(LookupCardNumber, number),
			BankCode:     bank.Code, BankName: bank.NameZH, Masked: MaskCard(number), Last4: number[len(number)-4:],
			Position: pos, CreatedAt: now,
		}
		if err := tx.CreateCard(ctx, c); err != nil {
			if ErrorCode(err) == CodeConflict {
				return Errorf(CodeConflict, "this card is bound to your wallet already")
			}
			return err
		}
		rec := audit(ctx, now, Actor{ActorCustomer, b.CustomerID}, ActionCardBind, b.CustomerID,
			map[string]string{"card_id": c.ID, "bank": c.BankCode, "last4": c.Last4})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// List returns the customer's cards in the customer's order.
func (s *CardService) List(ctx context.Context, customerID string) ([]Card, error) {
	var out []Card
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Cards(ctx, customerID)
		return err
	})
	return out, err
}

// Remove unbinds the customer's card. Another customer's card is not_found, as is
// one that does not exist: the answer never tells which.
// Errors: not_found.
func (s *CardService) Remove(ctx context.Context, customerID, cardID string) error {
	return s.Store.Transact(ctx, func(tx Tx) error {
		ok, err := tx.DeleteCard(ctx, customerID, cardID)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(CodeNotFound, "you have no card with this id")
		}
		rec := audit(ctx, nowIn(s.Now, tx), Actor{ActorCustomer, customerID}, ActionCardRemove, customerID,
			map[string]string{"card_id": cardID})
		return tx.AddAudit(ctx, rec)
	})
}

// Reorder puts the customer's cards in the order of ids, which must name each of
// them exactly once.
// Errors: invalid_request (ids is not exactly the customer's cards).
func (s *CardService) Reorder(ctx context.Context, customerID string, ids []string) ([]Card, error) {
	var out []Card
	err := s.Store.Transact(ctx, func(tx Tx) error {
		cards, err := tx.Cards(ctx, customerID)
		if err != nil {
			return err
		}
		have := make([]string, len(cards))
		for i, c := range cards {
			have[i] = c.ID
		}
		want := slices.Clone(ids)
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			return Errorf(CodeInvalidRequest, "card_ids must list each of your %d cards exactly once", len(cards))
		}
		for i, id := range ids {
			if err := tx.SetCardPosition(ctx, customerID, id, i); err != nil {
				return err
			}
		}
		rec := audit(ctx, nowIn(s.Now, tx), Actor{ActorCustomer, customerID}, ActionCardReorder, customerID,
			map[string]string{"cards": strconv.Itoa(len(ids))})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out, err = tx.Cards(ctx, customerID)
		return err
	})
	return out, err
}
