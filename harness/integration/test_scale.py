# SPDX-License-Identifier: MIT
"""Fifty clients at once through one uniguard gateway to a host behind it:
most of them uniguard (each started with -c and a wg-quick file, which
also sets its address), a few wireguard-go brought up by wg-quick."""

import os
import subprocess
import time

import uglab
from ugtools import wgquick

N_CLIENTS = 50
N_WIREGUARD_GO = 5
GW_OUTER = "172.31.0.1"
HOST = "10.240.0.2"


def client_conf(priv, index, server_pub):
    return wgquick.render(
        [("PrivateKey", priv),
         ("Address", "10.77.%d.%d/32" % (1 + index // 250, 1 + index % 250))],
        [[("PublicKey", server_pub),
          ("AllowedIPs", "10.77.0.1/32, 10.240.0.0/16"),
          ("Endpoint", "%s:51820" % GW_OUTER)]])


def test_fifty_clients_ping_through_the_gateway(lab):
    gw = lab.netns("gw")
    host = lab.netns("host")
    lab.veth(gw, host, ["10.240.0.10/16"], [HOST + "/16"])
    host.ip("route", "add", "10.77.0.0/16", "via", "10.240.0.10")
    gw.sysctl("net.ipv4.ip_forward", 1)
    gw.ip("link", "add", "br0", "type", "bridge")
    gw.ip("addr", "add", GW_OUTER + "/16", "dev", "br0")
    gw.ip("link", "set", "br0", "up")

    server_priv, server_pub = uglab.keypair()
    clients = []
    peers = []
    for i in range(N_CLIENTS):
        priv, pub = uglab.keypair()
        clients.append((priv, pub))
        peers.append([("PublicKey", pub), ("AllowedIPs", "10.77.%d.%d/32" % (
            1 + i // 250, 1 + i % 250))])
    gw_ifname = lab.ifname()
    conf = lab.write_file(gw_ifname + ".conf", wgquick.render(
        [("PrivateKey", server_priv), ("ListenPort", 51820),
         ("Address", "10.77.0.1/16")], peers))
    server = lab.uniguard(gw, gw_ifname, config=conf, verbosity="info")

    namespaces = []
    procs = []
    for i, (priv, pub) in enumerate(clients):
        ns = lab.netns("c%d" % i)
        namespaces.append(ns)
        _, gw_end = lab.veth(ns, gw, ["172.31.%d.%d/16" % (
            1 + i // 250, 1 + i % 250)], [])
        gw.ip("link", "set", gw_end, "master", "br0")
        ifname = lab.ifname()
        path = lab.write_file(ifname + ".conf", client_conf(priv, i,
                                                             server_pub))
        if i < N_WIREGUARD_GO:
            ns.exec("wg-quick", "up", path, env={
                "WG_QUICK_USERSPACE_IMPLEMENTATION": "wireguard-go"})
        else:
            procs.append(ns.popen("uniguard-" + ifname, [
                uglab.uniguard_binary(), "-f", "-c", path,
                "--disable-drop-privileges", "yes", ifname]))
            ns.ifname = ifname
    for ns, proc in zip(namespaces[N_WIREGUARD_GO:], procs):
        uglab.wait_until(
            lambda: os.path.exists(os.path.join(uglab.SOCK_DIR,
                                                ns.ifname + ".sock"))
            or not proc.alive(), what="client %s" % ns.ifname)
        assert proc.alive(), proc.log()
        ns.ip("route", "add", "10.240.0.0/16", "dev", ns.ifname)

    # All at once: 50 handshakes, then pings to the host behind the gateway.
    start = time.monotonic()
    pings = [subprocess.Popen(
        ["ip", "netns", "exec", ns.name, "ping", "-n", "-c", "3", "-i", "0.2",
         "-w", "30", HOST], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True) for ns in namespaces]
    failed = []
    for ns, p in zip(namespaces, pings):
        out, _ = p.communicate(timeout=60)
        if p.returncode != 0:
            failed.append((ns.name, out))
    assert not failed, failed
    assert time.monotonic() - start < 60

    dump = server.dump()
    assert len(dump.peers) == N_CLIENTS
    for _, pub in clients:
        peer = dump.peers[pub]
        assert peer.latest_handshake > 0 and peer.rx > 0 and peer.tx > 0
