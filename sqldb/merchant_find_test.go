package sqldb

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hebaopay/hebao"
)

// TestFindMerchant: FindMerchant (one statement, no transaction) answers what
// MerchantByKey answers in a View, for a merchant's key and for a key of none; the
// merchant service authenticates with it.
func TestFindMerchant(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		svc := &hebao.MerchantService{Store: db, Keys: testKeyring(t)}
		nm, err := svc.Create(ctx, hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, "Noodle Shop")
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{nm.APIKey, "mk_" + "nosuchkey"} {
			hash := sha256.Sum256([]byte(key))
			var viewed hebao.Merchant
			verr := db.View(ctx, func(tx hebao.Tx) (err error) {
				viewed, err = tx.MerchantByKey(ctx, hash)
				return err
			})
			found, ferr := db.FindMerchant(ctx, hash)
			if hebao.ErrorCode(ferr) != hebao.ErrorCode(verr) || !cmp.Equal(found, viewed) {
				t.Errorf("FindMerchant = %+v, %v; a View read %+v, %v", found, ferr, viewed, verr)
			}
			m, aerr := svc.Authenticate(ctx, key)
			switch {
			case key == nm.APIKey && (aerr != nil || m.ID != nm.Merchant.ID):
				t.Errorf("Authenticate with the key: %+v, %v", m, aerr)
			case key != nm.APIKey && hebao.ErrorCode(aerr) != hebao.CodeUnauthenticated:
				t.Errorf("Authenticate with a key of none: %+v, %v", m, aerr)
			}
		}
	})
}
