package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/poolpilot/poolpilot/ledger"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"t1": true, "a": true, "acme_corp-2": true, strings.Repeat("z", 64): true,
		"": false, strings.Repeat("z", 65): false, "T1": false, "a b": false, "a/b": false,
		"é": false, "a.b": false, "../x": false,
	} {
		if got := ledger.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestValidateMaxLinesAndAmounts(t *testing.T) {
	lines := make([]ledger.Line, ledger.MaxLines+1)
	for i := range lines {
		lines[i] = ledger.Line{Account: "a", Amount: 1}
	}
	lines[0].Amount = -ledger.MaxLines
	var ve *ledger.ValidationError
	if err := ledger.Validate("t", ledger.Entry{Lines: lines}); !errors.As(err, &ve) || !ve.Unprocessable || !strings.Contains(ve.Msg, "at most 100 lines") {
		t.Fatalf("too many lines: %v", err)
	}
	ok := ledger.Entry{Lines: []ledger.Line{{"a", ledger.MaxAmount}, {"b", -ledger.MaxAmount}}}
	if err := ledger.Validate("t", ok); err != nil {
		t.Fatalf("max amounts: %v", err)
	}
}
