// Package evidence keeps the evidence folder of a pool change: the seed's
// evidence files under their seed names, an execution log, and a
// hash-chained, append-only audit log (audit.jsonl) that records every file
// written with its SHA-256, so that any later edit, deletion, reordering or
// truncation is detected by Verify.
//
// The change controller drives it through a small API:
//
//	f, err := evidence.Open("launch/evidence", evidence.Options{Plan: "phase1_pool_scaling"})
//	f.Record(evidence.StateChange{From: "preflight", To: "awaiting-approval"})
//	f.WriteJSON(evidence.FilePreChangeConfig, cfg)
//	head, err := f.Close()
//
// and after a crash resumes the same folder with Resume. Every byte is passed
// through a Redactor before it reaches disk; every file is written atomically
// (temporary file, fsync, rename, fsync of the folder).
//
// The format of the folder, of an audit line and of its canonical hash is
// documented in docs/evidence.md so that a reviewer can check a folder by
// hand with sed, jq and sha256sum.
package evidence
