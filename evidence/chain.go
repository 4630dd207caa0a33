package evidence

import (
	"fmt"
)

// Kinds of Problem found by Verify.
const (
	ProblemEditedLine     = "edited_line"     // a line's content does not hash to its hash
	ProblemMalformedLine  = "malformed_line"  // a line is not a canonical audit line
	ProblemTornLine       = "torn_line"       // the log ends inside a line
	ProblemDeletedLine    = "deleted_line"    // a sequence number is missing
	ProblemReorderedLines = "reordered_lines" // sequence numbers out of order
	ProblemBrokenChain    = "broken_chain"    // prev does not name the line before
	ProblemTruncatedLog   = "truncated_log"   // the log ends before the head
	ProblemAppendedLine   = "appended_line"   // a line after the closed head, or off the chain at the end
	ProblemHeadMismatch   = "head_mismatch"   // audit.head does not match the log
	ProblemNotClosed      = "not_closed"      // no audit.head
	ProblemFileEdited     = "file_edited"
	ProblemFileDeleted    = "file_deleted"
	ProblemFileAdded      = "file_added"
	ProblemBadSignature   = "bad_signature"
	ProblemNoSignature    = "missing_signature"
	ProblemEmptyLog       = "empty_log"
)

// Problem is one thing in a folder that does not match its audit log.
type Problem struct {
	Kind    string `json:"kind"`
	Line    int    `json:"line,omitempty"`
	File    string `json:"file,omitempty"`
	Message string `json:"message"`
}

// CheckChain checks the hash chain of parsed audit lines against an
// optional head, and returns the first problem, or nil. It stops at the
// first break, since everything after it is unanchored.
func CheckChain(lines []RawLine, head *Head) *Problem {
	if len(lines) == 0 {
		return &Problem{Kind: ProblemEmptyLog, Message: "audit.jsonl is empty: no line to verify"}
	}
	want, prev := uint64(1), ZeroHash
	for i, rl := range lines {
		if p := checkLine(lines, i, want, prev, head); p != nil {
			return p
		}
		want, prev = rl.Line.Seq+1, rl.Line.Hash
	}
	last := lines[len(lines)-1].Line
	if head == nil {
		return nil
	}
	if last.Seq < head.Seq {
		return &Problem{Kind: ProblemTruncatedLog, Line: len(lines), Message: fmt.Sprintf(
			"audit log truncated: audit.head records %d lines ending in hash %s, but the log ends at line %d (seq %d)",
			head.Seq, short(head.Hash), len(lines), last.Seq)}
	}
	if last.Hash != head.Hash || last.Seq != head.Seq {
		return &Problem{Kind: ProblemHeadMismatch, Line: len(lines), Message: fmt.Sprintf(
			"audit.head names hash %s for seq %d, but line %d hashes to %s: the log's tail was rewritten or audit.head was edited",
			short(head.Hash), head.Seq, len(lines), short(last.Hash))}
	}
	return nil
}

func checkLine(lines []RawLine, i int, want uint64, prev string, head *Head) *Problem {
	rl := lines[i]
	n := rl.N
	if rl.Err != nil {
		if rl.Torn && i == len(lines)-1 {
			return &Problem{Kind: ProblemTornLine, Line: n, Message: fmt.Sprintf(
				"line %d is incomplete (%d bytes, no final newline): the log was cut mid-line or a write was interrupted by a crash", n, len(rl.Raw))}
		}
		return &Problem{Kind: ProblemMalformedLine, Line: n, Message: fmt.Sprintf("line %d was edited: it %v", n, rl.Err)}
	}
	l := rl.Line
	if head != nil && l.Seq > head.Seq && want > head.Seq && l.Hash == head.Hash {
		return &Problem{Kind: ProblemHeadMismatch, Line: n, Message: fmt.Sprintf(
			"audit.head names seq %d, but its hash %s is line %d's (seq %d): audit.head was edited", head.Seq, short(head.Hash), n, l.Seq)}
	}
	if head != nil && l.Seq > head.Seq && want > head.Seq {
		return &Problem{Kind: ProblemAppendedLine, Line: n, Message: fmt.Sprintf(
			"line %d (seq %d) was appended after the run was closed at seq %d", n, l.Seq, head.Seq)}
	}
	if l.Seq != want {
		return seqProblem(lines, i, want)
	}
	if !rl.HashOK {
		return &Problem{Kind: ProblemEditedLine, Line: n, Message: fmt.Sprintf(
			"line %d (seq %d, %s) was edited: its content does not hash to its recorded hash %s", n, l.Seq, l.Event, short(l.Hash))}
	}
	if l.Prev != prev {
		if i == len(lines)-1 && head == nil {
			return &Problem{Kind: ProblemAppendedLine, Line: n, Message: fmt.Sprintf(
				"line %d (seq %d) was appended without the chain: its prev %s is not the hash of line %d (%s)", n, l.Seq, short(l.Prev), n-1, short(prev))}
		}
		return &Problem{Kind: ProblemBrokenChain, Line: n, Message: fmt.Sprintf(
			"line %d does not chain to line %d: its prev %s is not line %d's hash %s (line %d was edited and re-hashed, or line %d was inserted)",
			n, n-1, short(l.Prev), n-1, short(prev), n-1, n)}
	}
	return nil
}

// seqProblem explains a sequence number that is not the expected one.
func seqProblem(lines []RawLine, i int, want uint64) *Problem {
	rl := lines[i]
	got := rl.Line.Seq
	for j, o := range lines {
		if o.Err == nil && o.Line.Seq == want && j != i {
			if j > i {
				return &Problem{Kind: ProblemReorderedLines, Line: rl.N, Message: fmt.Sprintf(
					"lines reordered: line %d holds seq %d, but seq %d comes first and is at line %d", rl.N, got, want, o.N)}
			}
		}
	}
	if got < want {
		return &Problem{Kind: ProblemReorderedLines, Line: rl.N, Message: fmt.Sprintf(
			"lines reordered or duplicated: line %d holds seq %d, which already came before (expected seq %d)", rl.N, got, want)}
	}
	missing := fmt.Sprintf("seq %d", want)
	if got-want > 1 {
		missing = fmt.Sprintf("seq %d–%d", want, got-1)
	}
	return &Problem{Kind: ProblemDeletedLine, Line: rl.N, Message: fmt.Sprintf(
		"line(s) deleted before line %d: expected seq %d, found seq %d (%s missing)", rl.N, want, got, missing)}
}
