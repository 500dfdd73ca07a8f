package hebao_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// sealKey is 32 deterministic bytes, different for each seed.
func sealKey(seed byte) []byte { return bytes.Repeat([]byte{seed}, 32) }

func std64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func keyringJSON(current string, keys map[string][]byte, lookup []byte) string {
	f := map[string]any{"current": current, "lookup_key": std64(lookup)}
	ks := map[string]string{}
	for id, k := range keys {
		ks[id] = std64(k)
	}
	f["keys"] = ks
	b, _ := json.Marshal(f)
	return string(b)
}

func mustKeyring(t testing.TB, current string, keys map[string][]byte) *hebao.Keyring {
	t.Helper()
	k, err := hebao.ParseKeyring([]byte(keyringJSON(current, keys, sealKey(0xAA))))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const cardPlain = "6222021234567890123"

func TestSealOpen(t *testing.T) {
	k := mustKeyring(t, "k1", map[string][]byte{"k1": sealKey(1)})
	ad := []byte("card:card_1")
	for _, pt := range [][]byte{[]byte(cardPlain), []byte("11010519491231002X"), {}, bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := k.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1.k1.") {
			t.Errorf("sealed %q, want the prefix v1.k1.", sealed)
		}
		got, err := k.Open(sealed, ad)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("Open = %q, want %q", got, pt)
		}
		if len(pt) > 4 && (strings.Contains(sealed, string(pt)) || strings.Contains(sealed, std64(pt)[:8])) {
			t.Errorf("the sealed value %q shows the plaintext", sealed)
		}
	}
}

func TestSealRotation(t *testing.T) {
	keys := map[string][]byte{"k1": sealKey(1)}
	old := mustKeyring(t, "k1", keys)
	sealed, err := old.Seal([]byte(cardPlain), nil)
	if err != nil {
		t.Fatal(err)
	}
	if old.Stale(sealed) {
		t.Error("a value sealed with the current key is stale")
	}

	// Rotate: k2 becomes current, k1 stays to open what it sealed.
	keys["k2"] = sealKey(2)
	k := mustKeyring(t, "k2", keys)
	if got, err := k.Open(sealed, nil); err != nil || string(got) != cardPlain {
		t.Fatalf("after rotation, Open(old) = %q, %v", got, err)
	}
	if !k.Stale(sealed) {
		t.Error("a value sealed with k1 is not stale once k2 is current")
	}
	fresh, err := k.Seal([]byte(cardPlain), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fresh, "v1.k2.") || k.Stale(fresh) {
		t.Errorf("after rotation, Seal = %q, want key k2", fresh)
	}
	if k.Current() != "k2" {
		t.Errorf("Current() = %q", k.Current())
	}
	// A keyring that no longer has k1 cannot open it; the old one cannot open k2's.
	only2 := mustKeyring(t, "k2", map[string][]byte{"k2": sealKey(2)})
	if _, err := only2.Open(sealed, nil); err == nil {
		t.Error("a keyring without k1 opened a value sealed with k1")
	}
	if _, err := old.Open(fresh, nil); err == nil {
		t.Error("a keyring without k2 opened a value sealed with k2")
	}
	// The same key under another id does not open it either: the id is authenticated.
	renamed := mustKeyring(t, "k9", map[string][]byte{"k9": sealKey(1)})
	if _, err := renamed.Open("v1.k9."+strings.TrimPrefix(sealed, "v1.k1."), nil); err == nil {
		t.Error("a ciphertext opened under another key id")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := mustKeyring(t, "k1", map[string][]byte{"k1": sealKey(1), "k2": sealKey(2)})
	ad := []byte("card:card_1")
	sealed, err := k.Seal([]byte(cardPlain), ad)
	if err != nil {
		t.Fatal(err)
	}
	other := mustKeyring(t, "k1", map[string][]byte{"k1": sealKey(3)})

	// Every byte changed to every other character of the alphabet and a few others.
	for i := 0; i < len(sealed); i++ {
		for _, c := range []byte("AQgw_-.0x\n=") {
			if c == sealed[i] {
				continue
			}
			bad := sealed[:i] + string(c) + sealed[i+1:]
			if got, err := k.Open(bad, ad); err == nil {
				t.Fatalf("Open with byte %d changed to %q = %q, want an error", i, c, got)
			}
		}
	}
	tests := []struct {
		name   string
		k      *hebao.Keyring
		sealed string
		ad     []byte
	}{
		{"other additional data", k, sealed, []byte("card:card_2")},
		{"no additional data", k, sealed, nil},
		{"other key, same id", other, sealed, ad},
		{"empty", k, "", ad},
		{"no body", k, "v1.k1.", ad},
		{"unknown key id", k, strings.Replace(sealed, ".k1.", ".k3.", 1), ad},
		{"the other known key's id", k, strings.Replace(sealed, ".k1.", ".k2.", 1), ad},
		{"other version", k, strings.Replace(sealed, "v1.", "v2.", 1), ad},
		{"truncated", k, sealed[:len(sealed)-1], ad},
		{"extended", k, sealed + "A", ad},
		{"short body", k, "v1.k1.AAAA", ad},
		{"padded", k, sealed + "==", ad},
		{"line break inside", k, sealed[:20] + "\n" + sealed[20:], ad},
		{"standard base64", k, strings.NewReplacer("-", "+", "_", "/").Replace(sealed), ad},
		{"spaces", k, " " + sealed, ad},
	}
	for _, tt := range tests {
		if tt.name == "standard base64" && !strings.ContainsAny(sealed, "-_") {
			continue
		}
		if got, err := tt.k.Open(tt.sealed, tt.ad); err == nil {
			t.Errorf("%s: Open = %q, want an error", tt.name, got)
		}
	}
}

func TestSealNonceUnique(t *testing.T) {
	k := mustKeyring(t, "k1", map[string][]byte{"k1": sealKey(1)})
	seen := make(map[string]bool, 10_000)
	for i := 0; i < 10_000; i++ {
		sealed, err := k.Seal([]byte(cardPlain), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := base64.RawURLEncoding.DecodeString(sealed[len("v1.k1."):])
		nonce := string(body[:12])
		if seen[nonce] {
			t.Fatalf("nonce repeated after %d seals", i)
		}
		seen[nonce] = true
	}
}

func TestLookup(t *testing.T) {
	k1 := mustKeyring(t, "k1", map[string][]byte{"k1": sealKey(1)})
	// Same lookup key, other sealing keys: the lookup does not change on rotation.
	k2 := mustKeyring(t, "k2", map[string][]byte{"k1": sealKey(1), "k2": sealKey(2)})
	otherLookup, err := hebao.ParseKeyring([]byte(keyringJSON("k1", map[string][]byte{"k1": sealKey(1)}, sealKey(0xBB))))
	if err != nil {
		t.Fatal(err)
	}
	h := k1.Lookup(hebao.LookupCardNumber, cardPlain)
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Errorf("Lookup = %q, want 64 lowercase hex digits", h)
	}
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"again", k1.Lookup(hebao.LookupCardNumber, cardPlain), true},
		{"after rotating the sealing key", k2.Lookup(hebao.LookupCardNumber, cardPlain), true},
		{"another lookup key", otherLookup.Lookup(hebao.LookupCardNumber, cardPlain), false},
		{"another purpose", k1.Lookup(hebao.LookupIDNumber, cardPlain), false},
		{"another value", k1.Lookup(hebao.LookupCardNumber, cardPlain[:18]+"4"), false},
		{"the boundary moved", k1.Lookup(hebao.LookupCardNumber+"\x006", cardPlain[1:]), false},
		{"plain SHA-256 is not it", fmt.Sprintf("%x", sha256Sum(cardPlain)), false},
	}
	for _, tt := range tests {
		if (tt.got == h) != tt.same {
			t.Errorf("%s: Lookup = %s, first %s; want same = %v", tt.name, tt.got, h, tt.same)
		}
	}
	if strings.Contains(h, cardPlain[len(cardPlain)-4:]) && strings.Contains(h, cardPlain[:6]) {
		t.Errorf("Lookup %q shows the value", h)
	}
	d := k1.DeriveKey("payment_password")
	if len(d) != 32 || bytes.Equal(d, k1.DeriveKey("otp")) || bytes.Equal(d, otherLookup.DeriveKey("payment_password")) ||
		!bytes.Equal(d, k2.DeriveKey("payment_password")) {
		t.Errorf("DeriveKey: %x", d)
	}
}

func TestParseKeyring(t *testing.T) {
	good := keyringJSON("k2", map[string][]byte{"k1": sealKey(1), "k2": sealKey(2)}, sealKey(0xAA))
	k, err := hebao.ParseKeyring([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := "Keyring(current k2; keys k1, k2)"
	if diff := cmp.Diff([]string{want, want, want}, []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", *k)}); diff != "" {
		t.Errorf("printing a keyring (-want +got):\n%s", diff)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", *k), fmt.Sprintf("%v", struct{ K *hebao.Keyring }{k})} {
		for _, key := range [][]byte{sealKey(1), sealKey(2), sealKey(0xAA)} {
			if strings.Contains(s, string(key)) || strings.Contains(s, std64(key)) || strings.Contains(s, fmt.Sprint(key)) {
				t.Errorf("printing the keyring shows a key: %s", s)
			}
		}
	}

	short := make([]byte, 31)
	tests := []struct{ name, json string }{
		{"empty", ""},
		{"not JSON", "k1=AAAA"},
		{"an array", "[]"},
		{"unknown field", strings.Replace(good, `"current"`, `"lookup":"x","current"`, 1)},
		{"trailing data", good + "{}"},
		{"no keys", keyringJSON("k1", map[string][]byte{}, sealKey(0xAA))},
		{"current missing", keyringJSON("k3", map[string][]byte{"k1": sealKey(1)}, sealKey(0xAA))},
		{"current empty", keyringJSON("", map[string][]byte{"k1": sealKey(1)}, sealKey(0xAA))},
		{"short key", keyringJSON("k1", map[string][]byte{"k1": short}, sealKey(0xAA))},
		{"long key", keyringJSON("k1", map[string][]byte{"k1": make([]byte, 33)}, sealKey(0xAA))},
		{"short lookup key", keyringJSON("k1", map[string][]byte{"k1": sealKey(1)}, short)},
		{"no lookup key", keyringJSON("k1", map[string][]byte{"k1": sealKey(1)}, nil)},
		{"lookup key is a sealing key", keyringJSON("k1", map[string][]byte{"k1": sealKey(1)}, sealKey(1))},
		{"two equal keys", keyringJSON("k1", map[string][]byte{"k1": sealKey(1), "k2": sealKey(1)}, sealKey(0xAA))},
		{"a dot in a key id", keyringJSON("k.1", map[string][]byte{"k.1": sealKey(1)}, sealKey(0xAA))},
		{"a space in a key id", keyringJSON("k 1", map[string][]byte{"k 1": sealKey(1)}, sealKey(0xAA))},
		{"a long key id", keyringJSON(strings.Repeat("k", 33), map[string][]byte{strings.Repeat("k", 33): sealKey(1)}, sealKey(0xAA))},
		{"url base64", strings.Replace(good, std64(sealKey(0xAA)), base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xFB}, 32)), 1)},
		{"key not base64", strings.Replace(good, std64(sealKey(1)), "not base64!", 1)},
	}
	for _, tt := range tests {
		_, err := hebao.ParseKeyring([]byte(tt.json))
		if err == nil {
			t.Errorf("%s: ParseKeyring accepted %s", tt.name, tt.json)
			continue
		}
		for _, key := range []string{std64(sealKey(1)), std64(sealKey(0xAA)), "AQEBAQ", "qqqq"} {
			if strings.Contains(err.Error(), key) {
				t.Errorf("%s: the error shows key material: %v", tt.name, err)
			}
		}
	}
	if _, err := hebao.NewKeyring("k1", map[string][]byte{"k1": sealKey(1)}, sealKey(0xAA)); err != nil {
		t.Errorf("NewKeyring: %v", err)
	}
}

func TestGenerateKeyring(t *testing.T) {
	a, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := hebao.GenerateKeyring()
	if bytes.Equal(a, b) {
		t.Error("two generated keyrings are equal")
	}
	k, err := hebao.ParseKeyring(a)
	if err != nil {
		t.Fatalf("ParseKeyring(GenerateKeyring()): %v\n%s", err, a)
	}
	sealed, err := k.Seal([]byte(cardPlain), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(sealed, nil); err != nil || string(got) != cardPlain || k.Current() != "k1" {
		t.Errorf("generated keyring: Open = %q, %v; current %q", got, err, k.Current())
	}
}

// FuzzOpen: nothing but the exact output of Seal opens. The seeds, committed in
// testdata/fuzz/FuzzOpen, are values sealed with these test keys and additional data
// "fuzz", and some broken ones; the fuzzer mutates them, and no mutation may open.
// (Fresh seals cannot be seeds: each fuzz worker would seal its own.)
func FuzzOpen(f *testing.F) {
	k := mustKeyring(f, "k2", map[string][]byte{"k1": sealKey(1), "k2": sealKey(2)})
	committed := committedSeeds(f, "FuzzOpen")
	opened := 0
	for s := range committed {
		if _, err := k.Open(s, []byte("fuzz")); err == nil {
			opened++
		}
	}
	if opened != 3 { // card_k1, id_number_k2, empty_k2: the seeds must reach the open path
		f.Fatalf("%d committed seeds in testdata/fuzz/FuzzOpen open, want 3: were the test keys changed?", opened)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := k.Open(s, []byte("fuzz"))
		if err == nil && !committed[s] {
			t.Fatalf("Open(%q) = %q: a value Seal did not make opened", s, pt)
		}
	})
}

// committedSeeds returns the string seeds committed in testdata/fuzz/<name>.
func committedSeeds(f *testing.F, name string) map[string]bool {
	dir := filepath.Join("testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	seeds := map[string]bool{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(b), "\n")
		arg, ok := strings.CutPrefix(strings.TrimSpace(rest), "string(")
		if !ok {
			continue
		}
		if s, err := strconv.Unquote(strings.TrimSuffix(arg, ")")); err == nil {
			seeds[s] = true
		}
	}
	return seeds
}

func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }
