package plan

import (
	"testing"
	"time"
)

func TestWindowContains(t *testing.T) {
	utc := func(h, m int) time.Time { return time.Date(2026, 2, 1, h, m, 0, 0, time.UTC) }
	cases := []struct {
		name string
		w    Window
		t    time.Time
		want bool
	}{
		{"seed inside", Window{Start: "02:00", End: "06:00", Timezone: "UTC"}, utc(3, 0), true},
		{"seed start inclusive", Window{Start: "02:00", End: "06:00", Timezone: "UTC"}, utc(2, 0), true},
		{"seed end exclusive", Window{Start: "02:00", End: "06:00", Timezone: "UTC"}, utc(6, 0), false},
		{"seed before", Window{Start: "02:00", End: "06:00", Timezone: "UTC"}, utc(1, 59), false},
		{"midnight late", Window{Start: "22:00", End: "02:00", Timezone: "UTC"}, utc(23, 30), true},
		{"midnight early", Window{Start: "22:00", End: "02:00", Timezone: "UTC"}, utc(1, 0), true},
		{"midnight outside", Window{Start: "22:00", End: "02:00", Timezone: "UTC"}, utc(12, 0), false},
		{"midnight end exclusive", Window{Start: "22:00", End: "02:00", Timezone: "UTC"}, utc(2, 0), false},
		// 02:00-06:00 in Tokyo (UTC+9) is 17:00-21:00 UTC the day before.
		{"zone inside", Window{Start: "02:00", End: "06:00", Timezone: "Asia/Tokyo"}, utc(18, 0), true},
		{"zone outside", Window{Start: "02:00", End: "06:00", Timezone: "Asia/Tokyo"}, utc(3, 0), false},
		// New York in summer (UTC-4): 02:00 local is 06:00 UTC.
		{"dst", Window{Start: "02:00", End: "06:00", Timezone: "America/New_York"}, time.Date(2026, 7, 1, 6, 30, 0, 0, time.UTC), true},
		{"no window", Window{}, utc(12, 0), true},
		{"default zone", Window{Start: "02:00", End: "06:00"}, utc(4, 0), true},
	}
	for _, c := range cases {
		got, err := c.w.Contains(c.t)
		if err != nil || got != c.want {
			t.Errorf("%s: %v.Contains(%s) = %v, %v; want %v", c.name, c.w, c.t.Format(time.RFC3339), got, err, c.want)
		}
	}
}

func TestWindowContainsBadInput(t *testing.T) {
	for _, w := range []Window{
		{Start: "2:00", End: "06:00", Timezone: "UTC"},
		{Start: "02:00", End: "25:00", Timezone: "UTC"},
		{Start: "02:00", End: "06:00", Timezone: "Mars/Olympus"},
	} {
		if _, err := w.Contains(time.Now()); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
	if s := (Window{Start: "02:00", End: "06:00", Timezone: "UTC"}).String(); s != "02:00–06:00 UTC" {
		t.Errorf("String() = %q", s)
	}
}
