package budget

import (
	"strings"
	"testing"
)

func TestCompute(t *testing.T) {
	pg := Limits{MaxConnections: 100, SuperuserReserved: 3}
	cases := []struct {
		name                             string
		in                               Input
		available, needed, maxFit, carry int
		judged, fits                     bool
		headroom                         int
		lines                            []string
	}{
		{"the brief's example", Input{Limits: pg, Fleet: Fleet{Instances: 2, Surge: 1}, PoolMax: 40, Others: 4},
			93, 120, 31, 1, true, false, -27, []string{
				"max_connections 100 − superuser_reserved 3 − reserved 0 − 4 other clients = 93 available",
				"(2 instances + 1 surge) × 1 process × max 40 = 120 needed",
				"120 > 93: does not fit; the largest max that fits is 31"}},
		{"zero reserved, surge 0, fits exactly", Input{Limits: pg, Fleet: Fleet{Instances: 1}, PoolMax: 97},
			97, 97, 97, 1, true, true, 0, []string{"97 ≤ 97: fits; the largest max that fits is 97"}},
		{"reserved_connections counts", Input{Limits: Limits{MaxConnections: 100, SuperuserReserved: 3, ReservedConnections: 5}, Fleet: Fleet{Instances: 1}, PoolMax: 92},
			92, 92, 92, 1, true, true, 0, []string{"− reserved 5 − 0 other clients = 92 available"}},
		{"processes multiply the pools", Input{Limits: pg, Fleet: Fleet{Instances: 1, Processes: 4}, PoolMax: 30, Others: 1},
			96, 120, 24, 0, true, false, -24, []string{"(1 instances + 0 surge) × 4 processes × max 30 = 120 needed"}},
		{"processes and surge", Input{Limits: Limits{MaxConnections: 500}, Fleet: Fleet{Instances: 3, Surge: 1, Processes: 2}, PoolMax: 10},
			500, 80, 62, 24, true, true, 420, []string{"80 ≤ 500: fits"}},
		{"negative availability", Input{Limits: pg, Fleet: Fleet{Instances: 1}, PoolMax: 1, Others: 150},
			-53, 1, 0, 0, true, false, -54, []string{"− 150 other clients = -53 available", "the largest max that fits is 0"}},
		{"no pools", Input{Limits: pg, PoolMax: 10},
			97, 0, 0, 9, true, true, 97, nil},
		{"pooler in front, limits unknown", Input{Limits: pg, Fleet: Fleet{Instances: 13}, PoolMax: 200, Pooler: &Pooler{}},
			0, 2600, 0, 0, false, true, 0, []string{"its client limit is unknown"}},
		{"pooler client side", Input{Limits: pg, Fleet: Fleet{Instances: 13}, PoolMax: 200, Others: 10, Pooler: &Pooler{ClientLimit: 1000}},
			990, 2600, 76, 4, true, false, -1610, []string{"client limit 1000 − 10 other clients = 990 available", "2600 > 990: does not fit"}},
		{"pooler server side does not fit", Input{Limits: Limits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 27}, Fleet: Fleet{Instances: 13}, PoolMax: 10,
			Pooler: &Pooler{ClientLimit: 1000, ServerConnections: 90}},
			1000, 130, 76, 100, true, false, 870, []string{"130 ≤ 1000: fits", "at most 90 server connections; max_connections 100 − superuser_reserved 3 − 27 other connections = 70 available; 90 > 70: does not fit"}},
		{"pooler server side only", Input{Limits: pg, Fleet: Fleet{Instances: 2}, PoolMax: 10, Pooler: &Pooler{ServerConnections: 20}},
			0, 20, 0, 0, true, true, 0, []string{"20 ≤ 97: fits"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Compute(tc.in)
			if r.Available != tc.available || r.Needed != tc.needed || r.MaxFit != tc.maxFit || r.Carry != tc.carry ||
				r.Judged != tc.judged || r.Fits != tc.fits || r.Headroom != tc.headroom {
				t.Errorf("got available %d needed %d maxFit %d carry %d judged %v fits %v headroom %d, want %d %d %d %d %v %v %d",
					r.Available, r.Needed, r.MaxFit, r.Carry, r.Judged, r.Fits, r.Headroom,
					tc.available, tc.needed, tc.maxFit, tc.carry, tc.judged, tc.fits, tc.headroom)
			}
			if server := r.Server != nil && !r.Server.Fits; r.PoolsFit != (r.Fits || server) {
				t.Errorf("pools fit %v, fits %v, server %+v", r.PoolsFit, r.Fits, r.Server)
			}
			text := strings.Join(r.Lines, "\n")
			for _, want := range tc.lines {
				if !strings.Contains(text, want) {
					t.Errorf("arithmetic lacks %q:\n%s", want, text)
				}
			}
			// The largest max that fits does fit, and one more does not.
			if r.Judged && r.Pools > 0 && tc.in.Pooler == nil && r.MaxFit > 0 {
				in := tc.in
				in.PoolMax = r.MaxFit
				if !Compute(in).Fits {
					t.Errorf("max %d said to fit, does not", r.MaxFit)
				}
				in.PoolMax++
				if Compute(in).Fits {
					t.Errorf("max %d fits: MaxFit %d is not the largest", in.PoolMax, r.MaxFit)
				}
			}
		})
	}
}

func TestOthers(t *testing.T) {
	for _, tc := range []struct{ planned, connected, held, want int }{
		{5, 40, 10, 5},  // the plan's number wins
		{0, 40, 10, 30}, // connected now less the changed pools
		{0, 4, 10, 0},   // never negative
	} {
		if got := Others(tc.planned, tc.connected, tc.held); got != tc.want {
			t.Errorf("Others(%d, %d, %d) = %d, want %d", tc.planned, tc.connected, tc.held, got, tc.want)
		}
	}
}

func TestLimitsArithmetic(t *testing.T) {
	l := Limits{MaxConnections: 100, SuperuserReserved: 3, OtherConnections: 5}
	if got, want := l.Arithmetic(), "max_connections 100 − superuser_reserved 3 − 5 other connections = 92"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	l.ReservedConnections = 2
	if got, want := l.Arithmetic(), "max_connections 100 − superuser_reserved 3 − reserved 2 − 5 other connections = 90"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if l.Capacity() != 95 || l.Available() != 90 {
		t.Errorf("capacity %d available %d", l.Capacity(), l.Available())
	}
}
