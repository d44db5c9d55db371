package harness

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const procNetHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func procNetLine(local, remote, state string, inode int) string {
	return fmt.Sprintf("   0: %s %s %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n",
		local, remote, state, inode)
}

func TestParseProcNet(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the test tables are written for a little-endian kernel")
	}
	ap := netip.MustParseAddrPort
	tests := []struct {
		name    string
		proto   string
		lines   []string
		want    map[uint64]Listener
		wantErr string
	}{
		{name: "tcp: listening on loopback and on every interface; an open connection is not a listener", proto: "tcp",
			lines: []string{
				procNetLine("0100007F:1F90", "00000000:0000", "0A", 11),
				procNetLine("00000000:1F0B", "00000000:0000", "0A", 12),
				procNetLine("0100007F:1F90", "0100007F:D431", "01", 13),
			},
			want: map[uint64]Listener{11: {"tcp", ap("127.0.0.1:8080")}, 12: {"tcp", ap("0.0.0.0:7947")}}},
		{name: "tcp6: every interface, ::1, IPv4-mapped loopback", proto: "tcp",
			lines: []string{
				procNetLine("00000000000000000000000000000000:C383", "00000000000000000000000000000000:0000", "0A", 21),
				procNetLine("00000000000000000000000001000000:17A3", "00000000000000000000000000000000:0000", "0A", 22),
				procNetLine("0000000000000000FFFF00000100007F:1770", "00000000000000000000000000000000:0000", "0A", 23),
			},
			want: map[uint64]Listener{
				21: {"tcp", ap("[::]:50051")}, 22: {"tcp", ap("[::1]:6051")}, 23: {"tcp", ap("[::ffff:127.0.0.1]:6000")},
			}},
		{name: "udp: bound and unconnected is a listener, connected is a client", proto: "udp",
			lines: []string{
				procNetLine("0100007F:1F0A", "00000000:0000", "07", 31),
				procNetLine("0100007F:E1A2", "0100007F:0035", "01", 32),
				procNetLine("0100007F:E1A3", "08080808:0035", "07", 33),
			},
			want: map[uint64]Listener{31: {"udp", ap("127.0.0.1:7946")}}},
		{name: "short line", proto: "tcp", lines: []string{"   0: 0100007F:1F90 00000000:0000 0A\n"}, wantErr: "short line"},
		{name: "bad address", proto: "tcp", lines: []string{procNetLine("0100007:1F90", "00000000:0000", "0A", 1)}, wantErr: "not 8 or 32 hex digits"},
		{name: "bad port", proto: "tcp", lines: []string{procNetLine("0100007F:XY", "00000000:0000", "0A", 1)}, wantErr: `address "0100007F:XY"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcNet(strings.NewReader(procNetHeader+strings.Join(tt.lines, "")), tt.proto)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListenerLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:1", true}, {"127.5.0.1:1", true}, {"[::1]:1", true}, {"[::ffff:127.0.0.1]:1", true},
		{"0.0.0.0:1", false}, {"[::]:1", false}, {"10.0.0.2:1", false}, {"[fe80::1]:1", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Listener{"tcp", netip.MustParseAddrPort(tt.addr)}.Loopback(), tt.addr)
	}
}

// The test process's own sockets, as the kernel reports them.
func TestListenersOf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	loop, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer loop.Close()
	all, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer all.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer udp.Close()

	got, err := ListenersOf(os.Getpid())
	require.NoError(t, err)
	byPort := map[string]Listener{}
	for _, l := range got {
		byPort[fmt.Sprintf("%s/%d", l.Proto, l.Addr.Port())] = l
	}
	port := func(a net.Addr) int {
		ap, err := netip.ParseAddrPort(a.String())
		require.NoError(t, err)
		return int(ap.Port())
	}
	l, ok := byPort[fmt.Sprintf("tcp/%d", port(loop.Addr()))]
	require.True(t, ok, "%v", got)
	assert.True(t, l.Loopback())
	l, ok = byPort[fmt.Sprintf("tcp/%d", port(all.Addr()))]
	require.True(t, ok, "%v", got)
	assert.False(t, l.Loopback(), "%v is every interface", l)
	assert.True(t, l.Addr.Addr().IsUnspecified())
	l, ok = byPort[fmt.Sprintf("udp/%d", port(udp.LocalAddr()))]
	require.True(t, ok, "%v", got)
	assert.True(t, l.Loopback())
}

// A server started through a shell (as `make run` starts Weaviate) is
// found in the shell's process group.
func TestServerListenersFollowTheProcessGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	port := FreePort(t)
	s, err := Launch(Config{
		Binary:   "/bin/sh",
		Args:     []string{"-c", fmt.Sprintf("%q; true", self(t))},
		Env:      map[string]string{"HARNESS_SERVER": "serve", "PORT": fmt.Sprint(port), "GREETING": "hello"},
		ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/ready", port),
	})
	require.NotNil(t, s)
	defer func() { _ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); s.Stop() }()
	require.NoError(t, err)
	got, err := s.Listeners()
	require.NoError(t, err)
	assert.Equal(t, []Listener{{"tcp", netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", port))}}, got)
}
