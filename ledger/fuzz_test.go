package ledger_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/poolpilot/poolpilot/ledger"
)

// FuzzDecodeEntry feeds arbitrary bodies to the POST parser and the
// validator: no panic; every error is a ValidationError; an entry that
// passes Validate has 2..MaxLines lines with valid ids, non-zero amounts
// within MaxAmount, summing to exactly zero (checked with big integers);
// and an accepted body survives a marshal/decode round trip unchanged.
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{
		`{"description":"sale","lines":[{"account":"cash","amount":1000},{"account":"revenue","amount":-1000}]}`,
		`{"lines":[{"account":"a","amount":9223372036854775807},{"account":"b","amount":1}]}`,
		`{"lines":[{"account":"a","amount":1e3},{"account":"b","amount":-1000}]}`,
		`{"lines":[{"account":"A","amount":1},{"account":"b","amount":-1}]} x`,
		`{"lines":null,"description":null}`, `[]`, `null`, `{"lines":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ledger.DecodeEntry(body)
		var ve *ledger.ValidationError
		if err != nil {
			if !errors.As(err, &ve) || ve.Unprocessable {
				t.Fatalf("decode error %v is not a 400 ValidationError", err)
			}
			return
		}
		if err := ledger.Validate("t1", e); err != nil {
			if !errors.As(err, &ve) {
				t.Fatalf("validate error %v is not a ValidationError", err)
			}
			return
		}
		if len(e.Lines) < 2 || len(e.Lines) > ledger.MaxLines {
			t.Fatalf("accepted %d lines", len(e.Lines))
		}
		sum := new(big.Int)
		for _, l := range e.Lines {
			if !ledger.ValidID(l.Account) || l.Amount == 0 || l.Amount > ledger.MaxAmount || l.Amount < -ledger.MaxAmount {
				t.Fatalf("accepted line %+v", l)
			}
			sum.Add(sum, big.NewInt(l.Amount))
		}
		if sum.Sign() != 0 {
			t.Fatalf("accepted an entry summing to %v", sum)
		}
		again, _ := json.Marshal(map[string]any{"description": e.Description, "lines": e.Lines})
		e2, err := ledger.DecodeEntry(again)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip: %+v → %s → %+v, %v", e, again, e2, err)
		}
	})
}
