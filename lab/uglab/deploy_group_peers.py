# SPDX-License-Identifier: MIT
"""lab/deploy-gcp peer add NAME / remove NAME / list with --ha or
--gateways N: the clients of a group of gateways in the project's
metadata attribute ([vpn] peers_attribute).

Every gateway of the group follows the same attribute (the daemon's
--peers-from reads the instance's attribute, else the project's), and an
attribute of the instance would be reset to the template's whenever
autohealing or an update recreates it, so a group's added peers live in
the project's attribute, set with `gcloud compute project-info
add-metadata`, and the template carries none (deploy_ha).  peer add puts
the new client on the least-loaded gateway, counting the configuration's
clients and the attribute's peers by the slice their address lies in,
gives it the first free address of that slice, and prints its file with
that gateway's external address as Endpoint.  The attribute's format and
the client's file are deploy_peers's."""

import ipaddress
import json

from ugtools import keys

from .deploy_cloud import Cloud
from .deploy_config import DeployError
from .deploy_ha import Group, ip_query
from .deploy_peers import (Peer, client_file, emit_client, list_peers,
                           parse_attribute, peer_words, render_attribute,
                           with_text_file, without)
from .deploy_plan import gcloud


def project_cmd(cfg, verb, *rest):
    return gcloud("compute", "project-info", verb,
                  "--project=" + cfg.project, *rest)


def read_attribute(cloud, cfg):
    cp = cloud.must(project_cmd(cfg, "describe", "--format=json"),
                    "reading the project's metadata")
    meta = json.loads(cp.stdout or "{}").get("commonInstanceMetadata") or {}
    for item in meta.get("items") or []:
        if item.get("key") == cfg.peers_attribute:
            return item.get("value") or ""
    return ""


def write_attribute(cloud, cfg, text):
    with_text_file(text, lambda path: cloud.must(
        project_cmd(cfg, "add-metadata", "--metadata-from-file=%s=%s"
                    % (cfg.peers_attribute, path)),
        "setting the project's metadata attribute %s" % cfg.peers_attribute))


def peer_ips(p):
    for a in p.allowed_ips.split(","):
        if a:
            net = ipaddress.ip_network(a, strict=False)
            if net.num_addresses == 1:
                yield net.network_address


def loads(cfg, g, peers):
    """How many clients each gateway serves: the configuration's and the
    attribute's, by the slice of their address."""
    n = [0] * g.n
    for c in cfg.clients:
        n[g.gateway_of(c)] += 1
    for p in peers:
        for ip in peer_ips(p):
            for i, s in enumerate(g.slices):
                if ip in s:
                    n[i] += 1
    return n


def free_address(cfg, s, peers):
    """The first host of slice s that nobody has."""
    used = {ipaddress.ip_interface(a.strip()).ip
            for a in cfg.vpn_address.split(",")}
    for c in cfg.clients:
        used.update(ipaddress.ip_interface(a).ip for a in c.addresses)
    for p in peers:
        used.update(peer_ips(p))
    for host in s.hosts():
        if host not in used:
            return host
    raise DeployError("no free address left in the slice %s" % s)


def do_group_peer(cfg, args, out, log):
    verb, name = peer_words(cfg, args)
    g = Group(cfg, args.gateways)
    cloud = Cloud(log)
    peers = parse_attribute(read_attribute(cloud, cfg))
    if verb == "list":
        print("# project metadata attribute %s: %d peer%s; clients per "
              "gateway %s" % (cfg.peers_attribute, len(peers),
                              "" if len(peers) == 1 else "s", ", ".join(
                                  "%s %d" % kv for kv in zip(
                                      g.instances, loads(cfg, g, peers)))),
              file=out)
        list_peers(peers, out)
        return 0
    if verb == "remove":
        left = without(peers, name, cfg.peers_attribute)
        write_attribute(cloud, cfg, render_attribute(left))
        print("peer %s removed: every gateway cuts it off as soon as it "
              "reads the attribute" % name, file=log)
        return 0
    if any(p.name == name for p in peers) or \
            any(c.name == name for c in cfg.clients):
        raise DeployError("a peer or client named %s exists already" % name)
    n = loads(cfg, g, peers)
    i = n.index(min(n))
    address = free_address(cfg, g.slices[i], peers)
    ip = cloud.must(ip_query(cfg, g.instances[i]), "the external address "
                    "of %s" % g.instances[i]).stdout.strip()
    private = keys.genkey()
    peers.append(Peer(name, keys.pubkey(private), "%s/32" % address))
    write_attribute(cloud, cfg, render_attribute(peers))
    text = client_file(cfg, private, address, ip or "EXTERNAL_IP")
    emit_client(args, out, name, text, address, g.instances[i])
    print("peer %s added as %s on %s, the least loaded (%s clients before): "
          "the gateways let it in as soon as they read the attribute"
          % (name, address, g.instances[i], "/".join(str(x) for x in n)),
          file=log)
    return 0
