package harness

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Listener is a socket that takes connections or datagrams from outside:
// a listening TCP socket, or an unconnected bound UDP socket.
type Listener struct {
	// Proto is "tcp" or "udp", for IPv4 and IPv6 alike.
	Proto string
	// Addr is the local address; an unspecified address (0.0.0.0, ::)
	// is every interface.
	Addr netip.AddrPort
}

func (l Listener) String() string { return l.Proto + " " + l.Addr.String() }

// Loopback reports whether the socket takes only loopback traffic.
func (l Listener) Loopback() bool { return l.Addr.Addr().Unmap().IsLoopback() }

// Listeners returns the listeners of the server's process group: the
// server and the processes it started (make and the server `make run`
// starts), sorted by protocol and port. Linux only (/proc).
func (s *Server) Listeners() ([]Listener, error) {
	pids, err := processGroup(s.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	return ListenersOf(pids...)
}

// ListenersOf returns the listeners the processes hold.
func ListenersOf(pids ...int) ([]Listener, error) {
	inodes := map[uint64]bool{}
	for _, pid := range pids {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			if os.IsNotExist(err) {
				continue // exited meanwhile
			}
			return nil, fmt.Errorf("sockets of process %d: %w", pid, err)
		}
		for _, fd := range fds {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if err != nil {
				continue // closed meanwhile
			}
			if rest, ok := strings.CutPrefix(target, "socket:["); ok {
				if inode, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
					inodes[inode] = true
				}
			}
		}
	}
	var out []Listener
	for _, table := range []struct{ file, proto string }{
		{"/proc/net/tcp", "tcp"}, {"/proc/net/tcp6", "tcp"}, {"/proc/net/udp", "udp"}, {"/proc/net/udp6", "udp"},
	} {
		f, err := os.Open(table.file)
		if err != nil {
			if os.IsNotExist(err) {
				continue // no IPv6
			}
			return nil, err
		}
		ls, err := ParseProcNet(f, table.proto)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table.file, err)
		}
		for inode, l := range ls {
			if inodes[inode] {
				out = append(out, l)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		if out[i].Addr.Port() != out[j].Addr.Port() {
			return out[i].Addr.Port() < out[j].Addr.Port()
		}
		return out[i].Addr.Addr().Less(out[j].Addr.Addr())
	})
	return out, nil
}

// Socket states in /proc/net/{tcp,udp}: include/net/tcp_states.h.
const (
	stateListen = "0A" // TCP_LISTEN
	stateClose  = "07" // TCP_CLOSE: how an unconnected UDP socket shows
)

// ParseProcNet reads a /proc/net/{tcp,tcp6,udp,udp6} table and returns its
// listeners by socket inode: TCP sockets in LISTEN, UDP sockets with no
// remote address.
func ParseProcNet(r io.Reader, proto string) (map[uint64]Listener, error) {
	out := map[uint64]Listener{}
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			return nil, fmt.Errorf("short line %q", sc.Text())
		}
		local, remote, state := f[1], f[2], f[3]
		switch {
		case proto == "tcp" && state == stateListen:
		case proto == "udp" && state == stateClose:
			ra, err := parseHexAddr(remote)
			if err != nil {
				return nil, err
			}
			if !ra.Addr().IsUnspecified() || ra.Port() != 0 {
				continue // a connected client socket
			}
		default:
			continue
		}
		addr, err := parseHexAddr(local)
		if err != nil {
			return nil, err
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("inode %q: %w", f[9], err)
		}
		out[inode] = Listener{Proto: proto, Addr: addr}
	}
	return out, sc.Err()
}

// parseHexAddr decodes the kernel's "0100007F:1F90": the address as 32-bit
// words in host byte order, then the port.
func parseHexAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("address %q: not 8 or 32 hex digits", s)
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// processGroup lists the processes of process group pgid.
func processGroup(pgid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("no process in group %d", pgid)
	}
	return pids, nil
}
