// Package chart draws small time-series line charts as self-contained SVG:
// no script, no external font or stylesheet, the same bytes for the same
// input (so they can be golden-tested). The report embeds them in HTML and
// writes them as files beside Markdown; the dashboard and the sizing
// advisor can reuse them.
//
// A chart has series of points (a missing point leaves a gap: no data is
// never drawn as zero), horizontal thresholds (drawn dashed and labelled;
// a threshold far above the data is listed as "off scale" rather than
// flattening the line) and vertical marks for events such as apply and
// rollback.
package chart
