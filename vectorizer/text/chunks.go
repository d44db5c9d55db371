package text

// CallOverheadTokens is what one model call costs beyond its tokens, in
// token positions: streaming the transformer's weights through the cache
// and starting each node's parallel section. The full-size text tower's
// cost per call and per position (docs/performance.md, "What the defaults
// are and why") puts one call's overhead at about 16 positions. It only
// steers how sorted texts are cut into model calls, so it need not be
// exact.
const CallOverheadTokens = 16

// chunks cuts lengths, sorted ascending, into consecutive model calls of
// at most maxBatch texts each, minimizing the total cost: per call,
// CallOverheadTokens plus the padded positions (texts × the call's longest
// text). One outlier thus gets a call of its own instead of padding a whole
// batch to its length, while texts of about one length stay together. It
// returns the end index of each call.
func chunks(lengths []int, maxBatch int) []int {
	n := len(lengths)
	if n == 0 {
		return nil
	}
	maxBatch = max(maxBatch, 1)
	cost := make([]int, n+1) // cost[j]: best cost of lengths[:j]
	cut := make([]int, n+1)  // cut[j]: start of the last call in that best
	for j := 1; j <= n; j++ {
		cost[j] = -1
		longest := lengths[j-1]
		for i := j - 1; i >= max(0, j-maxBatch); i-- {
			c := cost[i] + CallOverheadTokens + (j-i)*longest
			if cost[j] < 0 || c < cost[j] {
				cost[j], cut[j] = c, i
			}
		}
	}
	var ends []int
	for j := n; j > 0; j = cut[j] {
		ends = append(ends, j)
	}
	for a, b := 0, len(ends)-1; a < b; a, b = a+1, b-1 {
		ends[a], ends[b] = ends[b], ends[a]
	}
	return ends
}
