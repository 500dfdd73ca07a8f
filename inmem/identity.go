package inmem

import (
	"cmp"
	"context"
	"slices"

	"github.com/hebaopay/hebao"
)

// CreateIdentity implements hebao.Tx, keeping the schema's unique customer and
// ID-number lookup.
func (t *tx) CreateIdentity(_ context.Context, id hebao.Identity) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.identities {
		if o.CustomerID == id.CustomerID || o.IDLookup == id.IDLookup {
			return conflict("identity")
		}
	}
	t.d.identities[id.CustomerID] = id
	return nil
}

// IdentityByCustomer implements hebao.Tx.
func (t *tx) IdentityByCustomer(_ context.Context, customerID string) (hebao.Identity, error) {
	if err := t.read(); err != nil {
		return hebao.Identity{}, err
	}
	if id, ok := t.d.identities[customerID]; ok {
		return id, nil
	}
	return hebao.Identity{}, notFound("identity")
}

// IdentityByLookup implements hebao.Tx.
func (t *tx) IdentityByLookup(_ context.Context, lookup string) (hebao.Identity, error) {
	if err := t.read(); err != nil {
		return hebao.Identity{}, err
	}
	for _, id := range t.d.identities {
		if id.IDLookup == lookup {
			return id, nil
		}
	}
	return hebao.Identity{}, notFound("identity")
}

// SetWalletTier implements hebao.Tx.
func (t *tx) SetWalletTier(_ context.Context, walletID string, tier int) error {
	if err := t.write(); err != nil {
		return err
	}
	w, ok := t.d.wallets[walletID]
	if !ok {
		return notFound("wallet")
	}
	w.Tier = tier
	t.d.wallets[walletID] = w
	return nil
}

// CustomerByID implements hebao.Tx.
func (t *tx) CustomerByID(_ context.Context, id string) (hebao.Customer, error) {
	if err := t.read(); err != nil {
		return hebao.Customer{}, err
	}
	if c, ok := t.d.customers[id]; ok {
		return c, nil
	}
	return hebao.Customer{}, notFound("customer")
}

// CreateCard implements hebao.Tx, keeping the schema's unique card per customer.
func (t *tx) CreateCard(_ context.Context, c hebao.Card) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.cards {
		if o.ID == c.ID || o.CustomerID == c.CustomerID && o.NumberLookup == c.NumberLookup {
			return conflict("card")
		}
	}
	t.d.cards[c.ID] = c
	return nil
}

// Cards implements hebao.Tx.
func (t *tx) Cards(_ context.Context, customerID string) ([]hebao.Card, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Card
	for _, c := range t.d.cards {
		if c.CustomerID == customerID {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Card) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteCard implements hebao.Tx.
func (t *tx) DeleteCard(_ context.Context, customerID, id string) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	c, ok := t.d.cards[id]
	if !ok || c.CustomerID != customerID {
		return false, nil
	}
	delete(t.d.cards, id)
	return true, nil
}

// SetCardPosition implements hebao.Tx.
func (t *tx) SetCardPosition(_ context.Context, customerID, id string, position int) error {
	if err := t.write(); err != nil {
		return err
	}
	c, ok := t.d.cards[id]
	if !ok || c.CustomerID != customerID {
		return notFound("card")
	}
	c.Position = position
	t.d.cards[id] = c
	return nil
}

// PaymentPassword implements hebao.Tx.
func (t *tx) PaymentPassword(_ context.Context, walletID string) (hebao.PaymentPassword, error) {
	if err := t.read(); err != nil {
		return hebao.PaymentPassword{}, err
	}
	if p, ok := t.d.payPasswords[walletID]; ok {
		return p, nil
	}
	return hebao.PaymentPassword{}, notFound("payment password")
}

// SavePaymentPassword implements hebao.Tx.
func (t *tx) SavePaymentPassword(_ context.Context, p hebao.PaymentPassword) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.payPasswords[p.WalletID] = p
	return nil
}
