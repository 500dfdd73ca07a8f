package hebao

import (
	"context"
	"time"
)

// CodeFaceCheckFailed is the public code of a face check that did not match the
// customer's real name and ID (422).
const CodeFaceCheckFailed = "face_check_failed"

// CodeCardRequired is the public code of a step that needs a bound card first (422).
const CodeCardRequired = "card_required"

// FaceTier is the tier of a wallet with a real name, a bound card and a passed face
// check (SPEC §3).
const FaceTier = 2

// FaceImageMax is the largest face image accepted, in bytes (decoded).
const FaceImageMax = 48 << 10

// The audit actions of the face check.
const (
	ActionFaceCheck       = "customer.face_check"
	ActionFaceCheckFailed = "customer.face_check_failed"
)

// FaceVerifier is the face-check service of SPEC §6: it reports whether image shows
// the person with realName (the customer's, as recorded). The development verifier
// (package face) accepts any image; production uses the operator's service.
// An error is for a service that cannot answer, and should be unavailable.
type FaceVerifier interface {
	Verify(ctx context.Context, customerID, realName string, image []byte) (bool, error)
}

// FaceService raises wallets to tier 2 after a face check.
type FaceService struct {
	Store Store
	// Keys opens the recorded real name.
	Keys *Keyring
	// Verifier checks faces; nil answers unavailable.
	Verifier FaceVerifier
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// Verify checks the customer's face against the real name and, if it matches, raises
// the wallet to tier 2 (tier 1 is kept). The customer needs a real name and a bound
// card first. The image is never stored or logged. Both outcomes are audited.
// Errors: invalid_request (no image, or over FaceImageMax), real_name_required,
// card_required, face_check_failed, unavailable (no verifier, or it cannot answer).
func (s *FaceService) Verify(ctx context.Context, customerID string, image []byte) (Wallet, error) {
	if len(image) == 0 || len(image) > FaceImageMax {
		return Wallet{}, Errorf(CodeInvalidRequest, "image must be a photo of 1 to %d KiB", FaceImageMax>>10)
	}
	if s.Verifier == nil || s.Keys == nil {
		return Wallet{}, Errorf(CodeUnavailable, "no face-check service is configured on this server")
	}
	var name string
	err := s.Store.View(ctx, func(tx Tx) error {
		id, err := tx.IdentityByCustomer(ctx, customerID)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeRealNameRequired, "give your real name (POST /v1/wallet/real-name) before the face check")
		}
		if err != nil {
			return err
		}
		cards, err := tx.Cards(ctx, customerID)
		if err != nil {
			return err
		}
		if len(cards) == 0 {
			return Errorf(CodeCardRequired, "bind a bank card in your name (POST /v1/cards) before the face check")
		}
		n, err := s.Keys.Open(id.NameSealed, []byte(customerID))
		name = string(n)
		return err
	})
	if err != nil {
		return Wallet{}, err
	}
	ok, err := s.Verifier.Verify(ctx, customerID, name, image)
	if err != nil {
		return Wallet{}, err
	}
	var out Wallet
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		action := ActionFaceCheckFailed
		if ok {
			action = ActionFaceCheck
			if w.Tier > FaceTier {
				if err := tx.SetWalletTier(ctx, w.ID, FaceTier); err != nil {
					return err
				}
				w.Tier = FaceTier
			}
		}
		rec := audit(ctx, now, Actor{ActorCustomer, customerID}, action, customerID, map[string]string{"wallet_id": w.ID})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		return Wallet{}, err
	}
	if !ok {
		return Wallet{}, Errorf(CodeFaceCheckFailed, "the face check did not match the real name on this wallet; try again in good light")
	}
	return out, nil
}
