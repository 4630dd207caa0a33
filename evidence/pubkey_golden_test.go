package evidence_test

import (
	"testing"

	"github.com/poolpilot/poolpilot/evidence"
	"github.com/poolpilot/poolpilot/evidence/evidencetest"
)

// TestFixturePublicKey keeps testdata/fixture.pub, the public key of the
// golden folders' signatures, for checking them by hand with openssl.
func TestFixturePublicKey(t *testing.T) {
	b, err := evidence.MarshalPublicKey(evidencetest.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "../fixture.pub", b)
}
