package hebao

import (
	"context"
	"strconv"
	"time"
)

// RealNameTier is the tier of a wallet whose holder has given a real name and a
// resident ID number (SPEC §3).
const RealNameTier = 3

// ActionRealName is the audit action of a customer's real name being recorded.
const ActionRealName = "customer.real_name"

// Identity is a customer's real name and resident ID number (SPEC §3, §6). Both are
// kept only sealed with the Keyring, with the customer id as additional data, so a
// sealed value copied onto another customer's row does not open; IDLookup is the
// keyed hash (Keyring.Lookup with LookupIDNumber) that finds a person without the
// plaintext: one person holds at most one wallet.
type Identity struct {
	CustomerID     string
	NameSealed     string
	IDNumberSealed string
	IDLookup       string
	CreatedAt      time.Time
}

// IdentityTx is the part of Tx that keeps customers' identities and their wallets'
// tiers.
type IdentityTx interface {
	// CreateIdentity stores a customer's identity; conflict if the customer has one
	// already or another customer has the same IDLookup.
	CreateIdentity(ctx context.Context, id Identity) error
	// IdentityByCustomer returns the customer's identity; not_found if none.
	IdentityByCustomer(ctx context.Context, customerID string) (Identity, error)
	// IdentityByLookup returns the identity with this ID-number lookup hash;
	// not_found if none.
	IdentityByLookup(ctx context.Context, lookup string) (Identity, error)
	// SetWalletTier sets the tier of the wallet with the given id; not_found if
	// there is none.
	SetWalletTier(ctx context.Context, walletID string, tier int) error
}

// IdentityService records customers' real names (SPEC §3).
type IdentityService struct {
	Store Store
	// Keys seals the name and the ID number and computes the lookup hash.
	Keys *Keyring
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// SetRealName records the customer's real name and resident ID number and raises the
// wallet to tier 3; a wallet at a better tier keeps it. The name and the number are
// stored only sealed; the audit record holds neither. Concurrent uses of one ID
// number by two customers: exactly one succeeds.
// Errors: invalid_request (the name is not the shape of a name on an ID card),
// id_number_invalid, conflict (the customer has given a real name already, or the
// ID number belongs to another wallet), not_found (no wallet).
func (s *IdentityService) SetRealName(ctx context.Context, customerID, name, idNumber string) (Wallet, error) {
	if !ValidRealName(name) {
		return Wallet{}, Errorf(CodeInvalidRequest, "name must be the name on the resident identity card: 2 to 30 Chinese characters or Latin letters")
	}
	n, err := ParseIDNumber(idNumber)
	if err != nil {
		return Wallet{}, err
	}
	if s.Keys == nil {
		return Wallet{}, Errorf(CodeUnavailable, "real-name verification is not configured on this server")
	}
	ad := []byte(customerID)
	sealedName, err := s.Keys.Seal([]byte(name), ad)
	if err != nil {
		return Wallet{}, err
	}
	sealedID, err := s.Keys.Seal([]byte(n.Number()), ad)
	if err != nil {
		return Wallet{}, err
	}
	lookup := s.Keys.Lookup(LookupIDNumber, n.Number())
	var out Wallet
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		switch _, err := tx.IdentityByCustomer(ctx, customerID); {
		case err == nil:
			return Errorf(CodeConflict, "this wallet has a real name already")
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		switch other, err := tx.IdentityByLookup(ctx, lookup); {
		case err == nil && other.CustomerID != customerID:
			return idNumberTaken(nil)
		case err != nil && ErrorCode(err) != CodeNotFound:
			return err
		}
		id := Identity{CustomerID: customerID, NameSealed: sealedName, IDNumberSealed: sealedID, IDLookup: lookup, CreatedAt: now}
		if err := tx.CreateIdentity(ctx, id); err != nil {
			if ErrorCode(err) == CodeConflict {
				return idNumberTaken(err) // a concurrent request got there first
			}
			return err
		}
		from := w.Tier
		if w.Tier > RealNameTier {
			if err := tx.SetWalletTier(ctx, w.ID, RealNameTier); err != nil {
				return err
			}
			w.Tier = RealNameTier
		}
		rec := audit(ctx, now, Actor{ActorCustomer, customerID}, ActionRealName, customerID,
			map[string]string{"wallet_id": w.ID, "tier_from": strconv.Itoa(from), "tier": strconv.Itoa(w.Tier)})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		return Wallet{}, err
	}
	return out, nil
}

func idNumberTaken(cause error) error {
	e := Errorf(CodeConflict, "this ID number already holds a Hebao wallet: one person may hold one wallet")
	e.Err = cause
	return e
}
