package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of bound cards.
const (
	customerByID = `SELECT id, phone, password_hash, created_at FROM customers WHERE id = $1`
	cardInsert   = `INSERT INTO cards (id, customer_id, number_sealed, number_lookup, bank_code, bank_name, masked, last4, position, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	cardsByCustomer = `SELECT id, customer_id, number_sealed, number_lookup, bank_code, bank_name, masked, last4, position, created_at
FROM cards WHERE customer_id = $1 ORDER BY position, created_at, id`
	cardDelete      = `DELETE FROM cards WHERE customer_id = $1 AND id = $2`
	cardSetPosition = `UPDATE cards SET position = $3 WHERE customer_id = $1 AND id = $2`
)

// CustomerByID implements hebao.Tx.
func (t *tx) CustomerByID(_ context.Context, id string) (hebao.Customer, error) {
	if err := t.check(); err != nil {
		return hebao.Customer{}, err
	}
	var (
		c       hebao.Customer
		created int64
	)
	err := t.queryRow(customerByID, id).Scan(&c.ID, &c.Phone, &c.PasswordHash, &created)
	if isNoRows(err) {
		return hebao.Customer{}, hebao.Errorf(hebao.CodeNotFound, "no such customer")
	}
	if err != nil {
		return hebao.Customer{}, fmt.Errorf("read customer: %w", err)
	}
	c.CreatedAt = time.UnixMicro(created).UTC()
	return c, nil
}

// CreateCard implements hebao.Tx.
func (t *tx) CreateCard(_ context.Context, c hebao.Card) error {
	if c.ID == "" || c.CustomerID == "" || c.NumberSealed == "" || c.NumberLookup == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a card needs an id, a customer, a sealed number and a lookup hash")
	}
	_, err := t.exec(cardInsert, c.ID, c.CustomerID, c.NumberSealed, c.NumberLookup, c.BankCode, c.BankName,
		c.Masked, c.Last4, int64(c.Position), c.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store card: %w", err))
	}
	return nil
}

// Cards implements hebao.Tx.
func (t *tx) Cards(_ context.Context, customerID string) ([]hebao.Card, error) {
	rs, err := t.query(cardsByCustomer, customerID)
	if err != nil {
		return nil, fmt.Errorf("read cards: %w", err)
	}
	defer rs.Close()
	var out []hebao.Card
	for rs.Next() {
		var (
			c            hebao.Card
			pos, created int64
		)
		if err := rs.Scan(&c.ID, &c.CustomerID, &c.NumberSealed, &c.NumberLookup, &c.BankCode, &c.BankName,
			&c.Masked, &c.Last4, &pos, &created); err != nil {
			return nil, fmt.Errorf("read cards: %w", err)
		}
		c.Position, c.CreatedAt = int(pos), time.UnixMicro(created).UTC()
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read cards: %w", err)
	}
	return out, nil
}

// DeleteCard implements hebao.Tx.
func (t *tx) DeleteCard(_ context.Context, customerID, id string) (bool, error) {
	n, err := t.exec(cardDelete, customerID, id)
	if err != nil {
		return false, t.retryable(fmt.Errorf("delete card: %w", err))
	}
	return n > 0, nil
}

// SetCardPosition implements hebao.Tx.
func (t *tx) SetCardPosition(_ context.Context, customerID, id string, position int) error {
	n, err := t.exec(cardSetPosition, customerID, id, int64(position))
	if err != nil {
		return t.retryable(fmt.Errorf("order cards: %w", err))
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeNotFound, "no such card")
	}
	return nil
}
