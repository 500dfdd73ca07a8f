package hebao_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

const (
	realName  = "张三"
	idNumber  = "11010519491231002X"
	idNumber2 = "110101199003074258"
)

// keyring returns a new random keyring.
func keyring(t *testing.T) *hebao.Keyring {
	t.Helper()
	raw, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	k, err := hebao.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSetRealName(t *testing.T) {
	f := newFixture()
	keys := keyring(t)
	ids := &hebao.IdentityService{Store: f.store, Keys: keys, Now: f.clock.Now}
	a := f.register(t, "13800138000", "dev-a")
	b := f.register(t, "13700137000", "dev-a")

	for _, tt := range []struct {
		name, who, real, number, code string
	}{
		{"bad check digit", a.Customer.ID, realName, "110105194912310021", hebao.CodeIDNumberInvalid},
		{"bad name", a.Customer.ID, "张 三", idNumber, hebao.CodeInvalidRequest},
		{"mixed scripts", a.Customer.ID, "张San", idNumber, hebao.CodeInvalidRequest},
		{"no wallet", "cus_nobody", realName, idNumber, hebao.CodeNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ids.SetRealName(t.Context(), tt.who, tt.real, tt.number)
			if got := hebao.ErrorCode(err); got != tt.code {
				t.Errorf("error %v, want code %s", err, tt.code)
			}
			if err != nil && strings.Contains(err.Error(), tt.number) {
				t.Errorf("the error repeats the ID number: %v", err)
			}
		})
	}

	w, err := ids.SetRealName(t.Context(), a.Customer.ID, realName, idNumber)
	if err != nil || w.Tier != hebao.RealNameTier || w.ID != a.Wallet.ID {
		t.Fatalf("SetRealName = %+v, %v", w, err)
	}
	if _, err := ids.SetRealName(t.Context(), b.Customer.ID, realName, idNumber); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("same ID number, second wallet: %v, want conflict", err)
	}
	if _, err := ids.SetRealName(t.Context(), a.Customer.ID, realName, idNumber2); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("second real name: %v, want conflict", err)
	}

	err = f.store.View(t.Context(), func(tx hebao.Tx) error {
		id, err := tx.IdentityByCustomer(t.Context(), a.Customer.ID)
		if err != nil {
			return err
		}
		if id.IDLookup != keys.Lookup(hebao.LookupIDNumber, idNumber) {
			t.Errorf("lookup %s is not the keyed hash of the ID number", id.IDLookup)
		}
		for _, s := range []string{id.NameSealed, id.IDNumberSealed} {
			if strings.Contains(s, idNumber) || strings.Contains(s, realName) {
				t.Errorf("stored in the clear: %s", s)
			}
		}
		name, err := keys.Open(id.NameSealed, []byte(a.Customer.ID))
		if err != nil || string(name) != realName {
			t.Errorf("open name = %q, %v", name, err)
		}
		if _, err := keys.Open(id.IDNumberSealed, []byte(b.Customer.ID)); err == nil {
			t.Error("the sealed ID number opens under another customer's id")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"customer.register", "customer.register", "customer.real_name"}
	if d := cmp.Diff(want, f.actions()); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
	rec := f.store.Audit()[2]
	if d := cmp.Diff(map[string]string{"wallet_id": a.Wallet.ID, "tier_from": "4", "tier": "3"}, rec.Detail); d != "" {
		t.Errorf("audit detail (-want +got):\n%s", d)
	}
}

// TestSetRealNameKeepsBetterTier: a wallet at tier 2 or 1 is not lowered.
func TestSetRealNameKeepsBetterTier(t *testing.T) {
	f := newFixture()
	ids := &hebao.IdentityService{Store: f.store, Keys: keyring(t), Now: f.clock.Now}
	a := f.register(t, "13800138000", "dev-a")
	err := f.store.Transact(t.Context(), func(tx hebao.Tx) error { return tx.SetWalletTier(t.Context(), a.Wallet.ID, 1) })
	if err != nil {
		t.Fatal(err)
	}
	w, err := ids.SetRealName(t.Context(), a.Customer.ID, realName, idNumber)
	if err != nil || w.Tier != 1 {
		t.Errorf("SetRealName = tier %d, %v; want tier 1 kept", w.Tier, err)
	}
}

// TestSetRealNameConcurrent: two wallets racing for one ID number, exactly one wins.
func TestSetRealNameConcurrent(t *testing.T) {
	f := newFixture()
	ids := &hebao.IdentityService{Store: f.store, Keys: keyring(t), Now: f.clock.Now}
	var regs []hebao.Registered
	for _, p := range []string{"13800138000", "13700137000", "13600136000", "13500135000"} {
		regs = append(regs, f.register(t, p, "dev-a"))
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for _, r := range regs {
		wg.Go(func() {
			_, err := ids.SetRealName(t.Context(), r.Customer.ID, realName, idNumber)
			mu.Lock()
			defer mu.Unlock()
			switch hebao.ErrorCode(err) {
			case "":
				wins++
			case hebao.CodeConflict:
			default:
				t.Errorf("SetRealName: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d wallets got the ID number, want 1", wins)
	}
}
