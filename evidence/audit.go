package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ZeroHash is the prev of the first audit line.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Line is one line of audit.jsonl.
//
// Its canonical form is the JSON encoding of the fields seq, time, actor,
// event, data and prev, in this order, with no insignificant white space
// and no HTML escaping (Go's encoding/json with SetEscapeHTML(false)); time
// is RFC 3339 with nanoseconds in UTC. Hash is the lower-case hex SHA-256
// of the canonical form, and the line as written is the canonical form
// with `,"hash":"<Hash>"` inserted before its final brace. Prev is the Hash
// of the line before, ZeroHash for the first line.
type Line struct {
	Seq   uint64          `json:"seq"`
	Time  time.Time       `json:"time"`
	Actor string          `json:"actor"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Prev  string          `json:"prev"`
	Hash  string          `json:"hash"`
}

// canonicalLine is a Line without its hash, in canonical field order.
type canonicalLine struct {
	Seq   uint64          `json:"seq"`
	Time  time.Time       `json:"time"`
	Actor string          `json:"actor"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	Prev  string          `json:"prev"`
}

// Canonical returns the canonical bytes of l (without its hash).
func (l Line) Canonical() ([]byte, error) {
	return encodeCompact(canonicalLine{l.Seq, l.Time, l.Actor, l.Event, l.Data, l.Prev})
}

// encodeCompact is json.Marshal without HTML escaping or a final newline.
func encodeCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SealLine computes l.Hash and returns the line as written (with newline).
func SealLine(l *Line) ([]byte, error) {
	c, err := l.Canonical()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(c)
	l.Hash = hex.EncodeToString(sum[:])
	out := make([]byte, 0, len(c)+80)
	out = append(out, c[:len(c)-1]...)
	out = append(out, `,"hash":"`...)
	out = append(out, l.Hash...)
	out = append(out, "\"}\n"...)
	return out, nil
}

// RawLine is one line of an audit log as read, good or not.
type RawLine struct {
	N    int    // 1-based line number in the file
	Raw  []byte // the bytes of the line, without its newline
	Torn bool   // the file ends inside this line (no final newline)
	Line Line   // the parsed line, valid when Err is nil
	// HashOK says the line's content hashes to its recorded hash.
	HashOK bool
	Err    error // why the line is not a well-formed canonical audit line
}

var hashSuffix = regexp.MustCompile(`,"hash":"([0-9a-f]{64})"\}$`)

// ErrNotCanonical marks a line that parses but is not in canonical form.
var ErrNotCanonical = errors.New("not in canonical form")

// ReadAuditLines splits an audit log into lines and parses each. It never
// fails: a line that is not a well-formed audit line has Err set. An empty
// final segment (after the last newline) is not a line.
func ReadAuditLines(data []byte) []RawLine {
	var out []RawLine
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		rl := RawLine{N: n}
		if i < 0 {
			rl.Raw, rl.Torn, data = data, true, nil
		} else {
			rl.Raw, data = data[:i], data[i+1:]
		}
		rl.Line, rl.HashOK, rl.Err = parseLine(rl.Raw)
		out = append(out, rl)
	}
	return out
}

// parseLine parses one line and checks that it is canonical; hashOK says
// whether its content hashes to its recorded hash.
func parseLine(raw []byte) (l Line, hashOK bool, err error) {
	m := hashSuffix.FindSubmatchIndex(raw)
	if m == nil {
		return l, false, errors.New(`does not end with ,"hash":"<64 hex digits>"}`)
	}
	canon := make([]byte, 0, m[0]+1)
	canon = append(canon, raw[:m[0]]...)
	canon = append(canon, '}')
	var c canonicalLine
	dec := json.NewDecoder(bytes.NewReader(canon))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return l, false, fmt.Errorf("is not valid JSON: %w", err)
	}
	if dec.More() {
		return l, false, errors.New("has data after the JSON object")
	}
	l = Line{Seq: c.Seq, Time: c.Time, Actor: c.Actor, Event: c.Event, Data: c.Data, Prev: c.Prev, Hash: string(raw[m[2]:m[3]])}
	if len(l.Data) == 0 || l.Data[0] != '{' {
		return l, false, errors.New("data is not a JSON object")
	}
	re, err := l.Canonical()
	if err != nil || !bytes.Equal(re, canon) {
		return l, false, ErrNotCanonical
	}
	sum := sha256.Sum256(canon)
	return l, hex.EncodeToString(sum[:]) == l.Hash, nil
}
