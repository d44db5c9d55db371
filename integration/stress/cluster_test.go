package stress

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// portHolder hands out loopback ports and keeps them bound until release,
// so that no two of them (nor the harness's own picks meanwhile) are the
// same: Linux hands out ephemeral ports in sequence, and a local cluster
// needs pairs (Weaviate takes the data port as gossip+1 and the raft RPC
// port as raft+1).
type portHolder struct {
	ls []net.Listener
}

func (h *portHolder) bind(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	h.ls = append(h.ls, l)
	return true
}

// one returns a free port.
func (h *portHolder) one(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h.ls = append(h.ls, l)
	return l.Addr().(*net.TCPAddr).Port
}

// pair returns p with p and p+1 free.
func (h *portHolder) pair(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := h.one(t)
		if p < 65535 && h.bind(p+1) {
			return p
		}
	}
	t.Fatal("no two consecutive free ports")
	return 0
}

func (h *portHolder) release() {
	for _, l := range h.ls {
		l.Close()
	}
	h.ls = nil
}

// cluster is three weaviate-mclip nodes on loopback.
type cluster struct {
	nodes []*server
}

func startCluster(t *testing.T, m *models) (*cluster, error) {
	t.Helper()
	bin := weaviateBinary(t)
	const n = 3
	var ports portHolder
	defer ports.release()
	gossip, raft, httpPort, grpcPort := make([]int, n), make([]int, n), make([]int, n), make([]int, n)
	var join []string
	for i := range n {
		gossip[i], raft[i] = ports.pair(t), ports.pair(t)
		httpPort[i], grpcPort[i] = ports.one(t), ports.one(t)
		join = append(join, fmt.Sprintf("node%d:%d", i+1, raft[i]))
	}
	c := &cluster{}
	for i := range n {
		env := map[string]string{
			"CLUSTER_HOSTNAME":         fmt.Sprintf("node%d", i+1),
			"CLUSTER_IN_LOCALHOST":     "true",
			"CLUSTER_GOSSIP_BIND_PORT": fmt.Sprint(gossip[i]),
			"CLUSTER_DATA_BIND_PORT":   fmt.Sprint(gossip[i] + 1),
			"CLUSTER_JOIN":             fmt.Sprintf("127.0.0.1:%d", gossip[0]),
			"RAFT_PORT":                fmt.Sprint(raft[i]),
			"RAFT_INTERNAL_RPC_PORT":   fmt.Sprint(raft[i] + 1),
			"RAFT_JOIN":                strings.Join(join, ","),
			"RAFT_BOOTSTRAP_EXPECT":    fmt.Sprint(n),
			// Async replication repairs a node that missed writes; fast
			// here so that the test waits seconds, not minutes.
			"ASYNC_REPLICATION_FREQUENCY":                      "1s",
			"ASYNC_REPLICATION_FREQUENCY_WHILE_PROPAGATING":    "500ms",
			"ASYNC_REPLICATION_ALIVE_NODES_CHECKING_FREQUENCY": "1s",
			"ASYNC_REPLICATION_PROPAGATION_DELAY":              "1s",
			"GOMAXPROCS":                                       "2",
		}
		for k, v := range m.env {
			env[k] = v
		}
		env["GRPC_PORT"] = fmt.Sprint(grpcPort[i])
		w := harness.NewWeaviate(t, bin, env)
		// The held ports replace the harness's picks.
		w.HTTPPort, w.GRPCPort = httpPort[i], grpcPort[i]
		w.Config.Args = []string{"--host", "127.0.0.1", "--port", fmt.Sprint(httpPort[i]), "--scheme", "http"}
		w.Config.ReadyURL = fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", httpPort[i])
		c.nodes = append(c.nodes, &server{Weaviate: w, http: &http.Client{Timeout: 2 * time.Minute}})
	}
	ports.release()
	// Node1 first: the others join its gossip port and exit if it is not
	// listening yet.
	err := c.launch(t, c.nodes[0])
	if err == nil {
		err = waitListening(fmt.Sprintf("127.0.0.1:%d", gossip[0]), time.Minute)
	}
	for _, node := range c.nodes[1:] {
		if err == nil {
			err = c.launch(t, node)
		}
	}
	for _, node := range c.nodes {
		if err == nil {
			err = c.waitReady(node, 2*time.Minute)
		}
	}
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// stop stops every started node.
func (c *cluster) stop() {
	for _, node := range c.nodes {
		if node.Server != nil {
			node.Stop()
		}
	}
}

// launch starts (or restarts) a node with its configuration and data,
// without waiting for it to be ready (it is not before the raft quorum).
func (c *cluster) launch(t *testing.T, node *server) error {
	cfg := node.Config
	cfg.ReadyURL = ""
	srv, err := harness.Launch(cfg)
	if srv == nil {
		return fmt.Errorf("%s: %w", node.Config.Env["CLUSTER_HOSTNAME"], err)
	}
	node.Server = srv
	t.Cleanup(func() {
		srv.Stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", node.Config.Env["CLUSTER_HOSTNAME"], tail(srv.Logs(), 16<<10))
		}
	})
	return err
}

// waitReady polls the node's readiness until timeout.
func (c *cluster) waitReady(node *server, timeout time.Duration) error {
	name := node.Config.Env["CLUSTER_HOSTNAME"]
	for end := time.Now().Add(timeout); ; {
		if !node.Running() {
			return fmt.Errorf("%s exited before it was ready:\n%s", name, tail(node.Logs(), 4<<10))
		}
		if node.ready() {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s not ready after %s", name, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitListening waits until addr accepts TCP connections.
func waitListening(addr string, timeout time.Duration) error {
	for end := time.Now().Add(timeout); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s not listening after %s: %w", addr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "[...]\n" + s[len(s)-n:]
	}
	return s
}

// TestCluster imports into a three-node weaviate-mclip cluster
// (replication factor 3) while one node is stopped and started again; in
// the end every object is on every node (read node-locally) with the
// facade's vector, and queries answered throughout.
func TestCluster(t *testing.T) {
	m := tinyModels(t, 21, nil)
	// A port picked free may be taken by another test's server before a
	// node binds it: one more try on fresh ports.
	c, err := startCluster(t, m)
	if err != nil {
		t.Logf("cluster start failed, retrying on fresh ports: %v", err)
		c, err = startCluster(t, m)
	}
	require.NoError(t, err)
	ctx := context.Background()
	class := hostileClass("Replicated")
	class["replicationConfig"] = map[string]any{"factor": 3, "asyncEnabled": true}
	c.nodes[0].createClass(t, class)

	images := make([]string, 6)
	for i := range images {
		images[i] = b64(testimage.GradientPNG(800+i, 40, 30+i))
	}
	var (
		mu             sync.Mutex
		objects        = map[string]hostileCase{}
		order          []string // ids in import order
		importErrs     []string
		queries, qErrs atomic.Int64
		down           atomic.Int32 // index+1 of the stopped node, 0 when all run
	)
	live := func(i int) *server {
		d := int(down.Load()) - 1
		if i%len(c.nodes) == d {
			i++
		}
		return c.nodes[i%len(c.nodes)]
	}
	importBatch := func(round int) {
		node := live(round)
		var objs [][]byte
		ids := make([]string, 10)
		cases := make([]hostileCase, 10)
		for i := range ids {
			ids[i] = uuid.NewString()
			cases[i] = hostileCase{name: "cluster", title: str(fmt.Sprintf("%s %d-%d", phrases[(round+i)%len(phrases)], round, i)), image: images[(round+i)%len(images)]}
			objs = append(objs, cases[i].objectJSON(t, "Replicated", ids[i]))
		}
		errs, err := node.batch(ctx, batchBody(t, objs...))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			importErrs = append(importErrs, fmt.Sprintf("round %d via %s: %v", round, node.Config.Env["CLUSTER_HOSTNAME"], err))
			return
		}
		for i, id := range ids {
			if e := errs[id]; e != "" {
				importErrs = append(importErrs, fmt.Sprintf("round %d via %s: %s", round, node.Config.Env["CLUSTER_HOSTNAME"], e))
				continue
			}
			objects[id] = cases[i]
			order = append(order, id)
		}
	}
	query := func(round int) {
		node := live(round + 1)
		queries.Add(1)
		if err := node.query(ctx, fmt.Sprintf(`{Get{Replicated(nearText:{concepts:[%s]}, limit: 3){note}}}`, gqlString(phrases[round%len(phrases)]))); err != nil {
			qErrs.Add(1)
			mu.Lock()
			importErrs = append(importErrs, fmt.Sprintf("query via %s: %v", node.Config.Env["CLUSTER_HOSTNAME"], err))
			mu.Unlock()
		}
	}
	round := 0
	traffic := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); round++ {
			importBatch(round)
			query(round)
		}
	}

	phase := 1500 * time.Millisecond
	if stressMode() {
		phase = 15 * time.Second
	}
	traffic(phase)
	victim := c.nodes[2]
	down.Store(3)
	victim.Stop()
	t.Log("node3 stopped")
	mu.Lock()
	before := len(objects)
	mu.Unlock()
	traffic(phase)
	mu.Lock()
	whileDown := append([]string(nil), order[before:]...)
	mu.Unlock()
	require.NotEmpty(t, whileDown, "nothing imported while node3 was down")
	// node_name reads node-locally: with node3 down such a read fails.
	_, found, err := c.nodes[0].object(ctx, "Replicated", whileDown[0], "&node_name=node3")
	assert.False(t, found && err == nil, "a read pinned to the stopped node3 succeeded: node_name is not node-local")
	require.NoError(t, c.launch(t, victim))
	require.NoError(t, c.waitReady(victim, 2*time.Minute))
	down.Store(0)
	t.Log("node3 restarted")
	onRestart := 0
	for _, id := range whileDown {
		if _, found, err := victim.object(ctx, "Replicated", id, "&node_name=node3"); err == nil && found {
			onRestart++
		}
	}
	t.Logf("node3 holds %d of the %d objects imported while it was down right after its restart", onRestart, len(whileDown))
	traffic(phase)

	mu.Lock()
	for i, e := range importErrs {
		if i < 5 {
			t.Errorf("%s", e)
		}
	}
	mu.Unlock()
	require.Empty(t, importErrs, "failed imports or queries")

	// Every object on every node, node-locally, with the facade's vector.
	ids := make([]string, 0, len(objects))
	for id := range objects {
		ids = append(ids, id)
	}
	want := m.titleImageVectors(t, ctx, ids, objects, images)
	wait := 60 * time.Second
	if stressMode() {
		wait = 3 * time.Minute
	}
	start := time.Now()
	for ni, node := range c.nodes {
		name := fmt.Sprintf("node%d", ni+1)
		var missing, wrong int
		for {
			missing, wrong = 0, 0
			for _, id := range ids {
				vec, found, err := node.object(ctx, "Replicated", id, "&node_name="+name)
				require.NoError(t, err)
				switch {
				case !found:
					missing++
				case vectorDiff(want[id], vec) > vectorTolerance:
					wrong++
				}
			}
			if missing == 0 || time.Since(start) > wait {
				break
			}
			time.Sleep(time.Second)
		}
		t.Logf("%s: %d objects read node-locally, %d missing, %d with a wrong vector (after %s)",
			name, len(ids), missing, wrong, time.Since(start).Round(time.Second))
		assert.Zero(t, missing, "%s misses objects", name)
		assert.Zero(t, wrong, "%s holds wrong vectors", name)
	}
	for _, node := range c.nodes {
		require.NoError(t, node.query(ctx, `{Get{Replicated(nearText:{concepts:["der Hund"]}, limit: 3){note}}}`))
	}
	t.Logf("%d objects imported in %d rounds, node3 stopped and restarted in the middle; %d queries, %d failed",
		len(ids), round, queries.Load(), qErrs.Load())
}
