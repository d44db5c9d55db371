package integration

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
)

// weaviatePorts are the ports of a single-node weaviate-mclip.
type weaviatePorts struct {
	rest, grpc, gossip, data, raft, raftRPC int
}

// wantListeners is every socket a single-node weaviate-mclip takes
// connections on, with the environment of `make run` and the harness
// (CLUSTER_BIND_ADDR=127.0.0.1, GO_PROFILING_DISABLE=true, no metrics):
// the table of ports in docs/ports.md. Weaviate binds gRPC and the cluster data
// port on every interface ("*") whatever it is told.
func wantListeners(p weaviatePorts) []string {
	return []string{
		fmt.Sprintf("tcp 127.0.0.1:%d", p.rest),
		fmt.Sprintf("tcp *:%d", p.grpc),
		fmt.Sprintf("tcp 127.0.0.1:%d", p.gossip),
		fmt.Sprintf("udp 127.0.0.1:%d", p.gossip),
		fmt.Sprintf("tcp *:%d", p.data),
		fmt.Sprintf("tcp 127.0.0.1:%d", p.raft),
		fmt.Sprintf("tcp 127.0.0.1:%d", p.raftRPC),
	}
}

// listeners are the server's listening sockets as wantListeners writes
// them: every interface (0.0.0.0 or ::) as "*".
func listeners(t *testing.T, s *harness.Server) []string {
	t.Helper()
	ls, err := s.Listeners()
	require.NoError(t, err)
	out := make([]string, len(ls))
	for i, l := range ls {
		host := l.Addr.Addr().Unmap().String()
		if l.Addr.Addr().IsUnspecified() {
			host = "*"
		}
		out[i] = l.Proto + " " + net.JoinHostPort(host, strconv.Itoa(int(l.Addr.Port())))
	}
	return out
}

// assertNoProfilingServer: Weaviate's Go profiling and debug server
// (/debug/pprof, /debug/config: maintenance mode, memory limit) binds
// every interface; it must be off. When its port is taken (by another
// server) Weaviate logs the failed bind instead, so the log is checked
// too.
func assertNoProfilingServer(t *testing.T, logs string) {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, ":6060") || strings.Contains(l, "address already in use") {
			t.Errorf("profiling server or port clash in the log: %s", l)
		}
	}
}

// TestWeaviateListensOnDocumentedSocketsOnly starts two weaviate-mclip
// servers side by side as the harness starts them, and checks that each
// takes connections on exactly the documented sockets: none on another
// port, none beyond loopback but the two Weaviate forces, and no profiling
// server.
func TestWeaviateListensOnDocumentedSocketsOnly(t *testing.T) {
	bin := harness.Binary(t, "weaviate-mclip", "run `make weaviate` first")
	dir := t.TempDir()
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: dir, Size: modelgen.Tiny, Seed: 3}))
	env := map[string]string{"ENABLE_MODULES": mclipModule, "MCLIP_MODEL_DIR": dir, "MCLIP_THREADS": "1"}
	servers := []*harness.Weaviate{harness.StartWeaviate(t, bin, env), harness.StartWeaviate(t, bin, env)}
	for i, w := range servers {
		require.True(t, w.Running(), "server %d", i)
		want := wantListeners(weaviatePorts{
			rest: w.HTTPPort, grpc: w.GRPCPort, gossip: w.GossipPort, data: w.DataPort, raft: w.RaftPort, raftRPC: w.RaftRPCPort,
		})
		got := listeners(t, w.Server)
		assert.ElementsMatch(t, want, got, "server %d", i)
		for _, l := range got {
			if !strings.Contains(l, " 127.0.0.1:") && !strings.Contains(l, " [::1]:") {
				assert.Contains(t, []string{fmt.Sprintf("tcp *:%d", w.GRPCPort), fmt.Sprintf("tcp *:%d", w.DataPort)}, l,
					"server %d: only gRPC and the data port may be beyond loopback", i)
			}
		}
		assertNoProfilingServer(t, w.Logs())
	}
}
