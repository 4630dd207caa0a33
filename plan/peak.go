package plan

import (
	"fmt"
	"strings"
)

// Pools is how many pools the instance holds: its processes (0 means 1).
func (in Instance) Pools() int { return max(in.Processes, 1) }

// Peak is the plan's fleet at its largest, counted in pools: each listed
// instance counts its processes; the instances beyond those listed
// (rollout.max_instances) and the surge ones count as the largest. How
// names the instances that hold several pools ("" when none does).
// Preflight's connection budget and poolpilot size's plan budget both
// count the plan this way.
func (p *Plan) Peak() (instances, surge int, how string) {
	most, pools := 1, 0
	var multi []string
	for _, in := range p.Instances {
		n := in.Pools()
		pools += n
		most = max(most, n)
		if n > 1 {
			multi = append(multi, fmt.Sprintf("%s × %d processes", in.Name, n))
		}
	}
	instances = pools + max(p.Rollout.MaxInstances-len(p.Instances), 0)*most
	if len(multi) > 0 {
		how = "counted as pools: " + strings.Join(multi, ", ")
	}
	return instances, p.Rollout.Surge * most, how
}
