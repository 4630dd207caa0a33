// Package report builds the post-change report of a run from its evidence
// folder alone: summary verdict, what changed, the timeline of states and
// events, each criterion with its value and verdict, baseline against
// after, incidents and the rollback reason, and charts of latency p95,
// error rate, pool utilization and wait p95 with thresholds and the apply
// and rollback marked.
//
// Load reads a folder into a Model (a missing or unreadable optional file
// is listed in the model, never fatal); Markdown and HTML render it. The
// HTML is one self-contained file (inline SVG and CSS, no request of any
// kind) that prints well; the Markdown renders on a code host, with charts
// as SVG files written beside it or, without them, a table of the series.
package report
