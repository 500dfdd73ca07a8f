package hebao

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ActionMerchantAdd is the audit action of an admin creating a merchant.
const ActionMerchantAdd = "merchant.add"

// The prefixes of a merchant's secrets, so that a leaked one is recognised.
const (
	MerchantKeyPrefix    = "mk_"
	WebhookSecretPrefix  = "whsec_"
	maxMerchantName      = 100
	merchantSecretLength = 32 // random bytes
)

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// MerchantService creates merchants and recognises their API keys (SPEC §13).
type MerchantService struct {
	Store Store
	// Keys seals each merchant's webhook secret: it must be read again to sign each
	// delivery, so it cannot be kept hashed, and a stolen database must not give it.
	Keys *Keyring
	Now  func() time.Time
}

// NewMerchant is a merchant just created, with the secrets shown this once.
type NewMerchant struct {
	Merchant      Merchant
	APIKey        string
	WebhookSecret string
}

// Create makes a merchant with its settlement account, an API key and a webhook
// secret, on behalf of the admin by.
// Errors: invalid_request.
func (s *MerchantService) Create(ctx context.Context, by Actor, name string) (NewMerchant, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxMerchantName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return NewMerchant{}, Errorf(CodeInvalidRequest, "name must be 1 to %d characters of text", maxMerchantName)
	}
	key, secret := newSecret(MerchantKeyPrefix), newSecret(WebhookSecretPrefix)
	m := Merchant{ID: NewID("mch"), Name: name, APIKeyHash: sha256.Sum256([]byte(key))}
	sealed, err := s.Keys.Seal([]byte(secret), []byte(m.ID))
	if err != nil {
		return NewMerchant{}, err
	}
	m.WebhookSecretSealed = sealed
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		m.CreatedAt = now
		a, err := tx.CreateAccount(ctx, Account{Kind: AccountMerchant, Unit: CNY, Owner: m.ID})
		if err != nil {
			return err
		}
		m.Account = a.ID
		if err := tx.CreateMerchant(ctx, m); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(ctx, now, by, ActionMerchantAdd, m.ID, map[string]string{"name": name}))
	})
	if err != nil {
		return NewMerchant{}, err
	}
	return NewMerchant{Merchant: m, APIKey: key, WebhookSecret: secret}, nil
}

// newSecret returns prefix and 256 random bits.
func newSecret(prefix string) string {
	b := make([]byte, merchantSecretLength)
	rand.Read(b)
	return prefix + strings.ToLower(secretEncoding.EncodeToString(b))
}

// Authenticate returns the merchant whose API key this is.
// Errors: unauthenticated.
func (s *MerchantService) Authenticate(ctx context.Context, apiKey string) (Merchant, error) {
	if !strings.HasPrefix(apiKey, MerchantKeyPrefix) || len(apiKey) > 128 {
		return Merchant{}, Errorf(CodeUnauthenticated, "give the merchant API key (mk_…) as a bearer token")
	}
	var (
		m    Merchant
		err  error
		hash = sha256.Sum256([]byte(apiKey))
	)
	if f, ok := s.Store.(MerchantFinder); ok {
		m, err = f.FindMerchant(ctx, hash)
	} else {
		err = s.Store.View(ctx, func(tx Tx) (err error) {
			m, err = tx.MerchantByKey(ctx, hash)
			return err
		})
	}
	if ErrorCode(err) == CodeNotFound {
		return Merchant{}, Errorf(CodeUnauthenticated, "this merchant API key is not valid")
	}
	return m, err
}

// WebhookSecret opens the merchant's webhook signing secret.
func (s *MerchantService) WebhookSecret(m Merchant) ([]byte, error) {
	return s.Keys.Open(m.WebhookSecretSealed, []byte(m.ID))
}

// Balance returns the merchant's settlement balance, in fen.
func (s *MerchantService) Balance(ctx context.Context, m Merchant) (int64, error) {
	var bal int64
	err := s.Store.View(ctx, func(tx Tx) error {
		as, err := tx.Accounts(ctx, m.Account)
		bal = as[m.Account].Balance
		return err
	})
	return bal, err
}

// MerchantSummary is a merchant as the staff console lists it: never its API key or
// webhook secret.
type MerchantSummary struct {
	Merchant Merchant
	Balance  int64 // fen in its settlement account
}

// List returns up to limit merchants (1 to MaxPageSize), newest first, after the
// cursor (the last merchant id of the page before), each with its settlement
// balance; next is "" on the last page.
// Errors: invalid_request (limit, cursor).
func (s *MerchantService) List(ctx context.Context, cursor string, limit int) (out []MerchantSummary, next string, err error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	if cursor != "" && !ValidID("mch", cursor) {
		return nil, "", Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		ms, err := tx.Merchants(ctx, cursor, limit+1)
		if err != nil {
			return err
		}
		out, next = nil, ""
		if len(ms) > limit {
			ms, next = ms[:limit], ms[limit-1].ID
		}
		ids := make([]AccountID, len(ms))
		for i, m := range ms {
			ids[i] = m.Account
		}
		as, err := tx.Accounts(ctx, ids...)
		if err != nil {
			return err
		}
		for _, m := range ms {
			out = append(out, MerchantSummary{Merchant: m, Balance: as[m.Account].Balance})
		}
		return nil
	})
	return out, next, err
}

// WebhookService shows merchants the webhooks owed to them and sends one again on
// request; the webhook package's Sender does the sending.
type WebhookService struct {
	Store Store
	Now   func() time.Time
	// Committed, if set, is called after a replay is scheduled (to wake the sender).
	Committed func()
}

// Deliveries returns up to limit of the merchant's deliveries, newest first, after
// the cursor (a delivery id) when one is given.
// Errors: invalid_request (a malformed cursor).
func (s *WebhookService) Deliveries(ctx context.Context, m Merchant, cursor string, limit int) ([]WebhookDelivery, error) {
	if cursor != "" && !ValidID("whd", cursor) {
		return nil, Errorf(CodeInvalidRequest, "cursor is not one this API gave")
	}
	var out []WebhookDelivery
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Deliveries(ctx, m.ID, cursor, limit)
		return err
	})
	return out, err
}

// Replay sends the merchant's delivery again as soon as the sender can: the same
// event id and body, signed afresh; delivered or not, and even after its schedule ran
// out.
// Errors: not_found.
func (s *WebhookService) Replay(ctx context.Context, m Merchant, id string) (WebhookDelivery, error) {
	if !ValidID("whd", id) {
		return WebhookDelivery{}, Errorf(CodeNotFound, "no such webhook delivery")
	}
	var out WebhookDelivery
	err := s.Store.Transact(ctx, func(tx Tx) error {
		d, err := tx.Delivery(ctx, m.ID, id)
		if err != nil {
			return err
		}
		now := nowIn(s.Now, tx)
		d.Delivered, d.NextAttemptAt, d.UpdatedAt = false, now, now
		out = d
		return tx.UpdateDelivery(ctx, d)
	})
	if err == nil && s.Committed != nil {
		s.Committed()
	}
	return out, err
}

// WebhookSecretOf opens the webhook signing secret of the merchant with this id.
// Errors: not_found.
func (s *MerchantService) WebhookSecretOf(ctx context.Context, merchantID string) ([]byte, error) {
	var m Merchant
	if err := s.Store.View(ctx, func(tx Tx) (err error) {
		m, err = tx.MerchantByID(ctx, merchantID)
		return err
	}); err != nil {
		return nil, err
	}
	return s.WebhookSecret(m)
}
