package hebao

import "testing"

// TestBINTable checks the hand-written table: every BIN is 6 to 9 digits and names a
// bank of issuingBanks, every bank has BINs, and each bank's code is its key.
func TestBINTable(t *testing.T) {
	perBank := map[string]int{}
	for bin, code := range bins {
		if len(bin) < binMinDigits || len(bin) > binMaxDigits || !allDigits(bin) {
			t.Errorf("BIN %q is not 6 to 9 digits", bin)
		}
		if _, ok := issuingBanks[code]; !ok {
			t.Errorf("BIN %s names bank %q, which is not in issuingBanks", bin, code)
		}
		perBank[code]++
	}
	for code, b := range issuingBanks {
		if b.Code != code {
			t.Errorf("issuingBanks[%q].Code = %q", code, b.Code)
		}
		if perBank[code] == 0 {
			t.Errorf("bank %s has no BIN", code)
		}
	}
	if bins["622202"] != bankICBC {
		t.Errorf("622202, the BIN of SPEC §13's examples, is %q, want ICBC", bins["622202"])
	}
}

func TestLookupBINLongestPrefix(t *testing.T) {
	table := map[string]string{
		"622202":    bankICBC,
		"6222021":   bankCCB,
		"62220212":  bankABC,
		"622202123": bankBOC,
		"622203":    bankCMB,
	}
	tests := []struct{ number, want string }{
		{"6222020000000000", bankICBC},
		{"6222021000000000", bankCCB},
		{"6222021200000000", bankABC},
		{"6222021230000000", bankBOC},
		{"6222021240000000", bankABC},
		{"6222030000000000", bankCMB},
		{"6222040000000000", ""},
		{"622202123", bankBOC}, // exactly the BIN
		{"62220212", bankABC},
		{"62220", ""},
	}
	for _, tt := range tests {
		b, ok := lookupBIN(table, tt.number)
		if ok != (tt.want != "") || b.Code != tt.want {
			t.Errorf("lookupBIN(%q) = %q, %v; want %q", tt.number, b.Code, ok, tt.want)
		}
	}
}
