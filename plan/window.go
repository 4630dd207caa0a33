package plan

import (
	"fmt"
	"time"
)

// IsSet reports whether the plan has a change window.
func (w Window) IsSet() bool { return w.Start != "" || w.End != "" }

// String shows the window as the plan states it: "02:00–06:00 UTC".
func (w Window) String() string {
	if !w.IsSet() {
		return "(no change window)"
	}
	tz := w.Timezone
	if tz == "" {
		tz = "UTC"
	}
	return fmt.Sprintf("%s–%s %s", w.Start, w.End, tz)
}

// Contains reports whether t falls inside the daily window, in the window's
// time zone: start inclusive, end exclusive. A window whose end is before
// its start crosses midnight (22:00–02:00 holds 23:30 and 01:00). A plan
// without a window contains every time.
func (w Window) Contains(t time.Time) (bool, error) {
	if !w.IsSet() {
		return true, nil
	}
	tz := w.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return false, fmt.Errorf("window.timezone %q: %v", tz, err)
	}
	start, err := clockMinutes(w.Start)
	if err != nil {
		return false, fmt.Errorf("window.start: %v", err)
	}
	end, err := clockMinutes(w.End)
	if err != nil {
		return false, fmt.Errorf("window.end: %v", err)
	}
	lt := t.In(loc)
	now := lt.Hour()*60 + lt.Minute()
	switch {
	case start == end:
		return true, nil // validation refuses this; a full day is the kind reading
	case start < end:
		return now >= start && now < end, nil
	default: // across midnight
		return now >= start || now < end, nil
	}
}

// clockMinutes reads "HH:MM" as minutes after midnight.
func clockMinutes(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || h < 0 || h > 23 || m < 0 || m > 59 || len(s) != 5 {
		return 0, fmt.Errorf("%q must be HH:MM (24-hour), e.g. 02:00", s)
	}
	return h*60 + m, nil
}
