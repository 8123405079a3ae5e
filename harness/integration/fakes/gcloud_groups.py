# SPDX-License-Identifier: MIT
"""The stand-in gcloud's managed instance groups, instance templates,
health checks and list commands (fakes/gcloud calls handle()), kept in the
same JSON state and recorded the same way.  It answers as the real CLI
does for the commands lab/deploy-gcp's --ha, --gateways and update use,
and checks what the real API checks and the deploy relies on: a template
needs its image, a group its template and health check, a named instance
its group and its reserved address; an instance made by the group carries
the template's forwarding and tags and keeps its name and stateful
address when a rolling update recreates it; a health check or template in
use cannot be deleted."""

import json
import os
import re

COLLECTIONS = ("instance-templates", "health-checks", "instance-groups",
               "project-info")


def project_info(argv, fake, st):
    """project-info describe, and add-metadata: the project's metadata,
    other keys kept, a new fingerprint."""
    pos, flags = fake.parse_flags(argv[3:])
    meta = st.setdefault("project_metadata", {})
    if argv[2] == "describe":
        fake.finish(argv, 0, out=json.dumps({
            "name": flags.get("project"), "commonInstanceMetadata": {
                "items": [{"key": k, "value": v}
                          for k, v in sorted(meta.items())]}}) + "\n")
    if argv[2] != "add-metadata":
        fake.finish(argv, 2, err="ERROR: (gcloud) fake: unsupported\n")
    for kv in filter(None, str(flags.get("metadata-from-file") or "")
                     .split(",")):
        k, _, path = kv.partition("=")
        with open(path) as f:
            meta[k] = f.read()
    fake.save(st)
    fake.finish(argv, 0, err="Updated [%s].\n" % (fake.API % flags.get(
        "project")), metadata=sorted(meta))


def handle(argv, fake):
    st = fake.load()
    res = st.setdefault("resources", {})
    coll = argv[1]
    if coll == "project-info":
        project_info(argv, fake, st)
    if coll == "instance-groups":
        if len(argv) < 4 or argv[2] != "managed":
            fake.finish(argv, 2, err="ERROR: (gcloud) fake: unsupported "
                        "command %s\n" % " ".join(argv))
        verb = argv[3]
        rest = argv[4:]
        if verb == "rolling-action":
            verb = "rolling-action " + (rest[0] if rest else "")
            rest = rest[1:]
        cmd = "gcloud.compute.instance-groups.managed.%s" % verb.replace(
            " ", ".")
    else:
        verb = argv[2]
        rest = argv[3:]
        if coll == "health-checks" and verb == "create":
            if not rest or rest[0] != "http":
                fake.finish(argv, 2, err="ERROR: (gcloud) fake: only "
                            "health-checks create http\n")
            rest = rest[1:]
        cmd = "gcloud.compute.%s.%s" % (coll, verb)
    pos, flags = fake.parse_flags(rest)
    project = flags.get("project")
    if not project:
        fake.finish(argv, 1, err="ERROR: (%s) The required property "
                    "[project] is not currently set.\n" % cmd)

    if verb == "list":
        kind = {"images": "images", "instance-templates":
                "instance-templates"}.get(coll)
        if not kind:
            fake.finish(argv, 2, err="ERROR: (%s) fake: unsupported\n" % cmd)
        m = re.match(r"^name ~ (.*)$", flags.get("filter", "") or "")
        rx = re.compile(m.group(1)) if m else re.compile("")
        out = [v for k, v in sorted(res.items())
               if k.startswith(kind + "/") and rx.search(v["name"])]
        fake.finish(argv, 0, out=json.dumps(out, indent=2) + "\n")

    if len(pos) != 1:
        fake.finish(argv, 2, err="ERROR: (%s) one NAME expected\n" % cmd)
    name = pos[0]
    api = fake.API % project
    if coll == "instance-groups":
        zone = flags.get("zone")
        if not zone:
            fake.finish(argv, 1, err="ERROR: (%s) fake: missing --zone\n"
                        % cmd)
        key = "instance-groups/%s/%s" % (zone, name)
        path = "projects/%s/zones/%s/instanceGroupManagers/%s" % (
            project, zone, name)
        link = "%s/zones/%s/instanceGroupManagers/%s" % (api, zone, name)
    else:
        zone = None
        key = "%s/global/%s" % (coll, name)
        kind = {"instance-templates": "instanceTemplates",
                "health-checks": "healthChecks"}[coll]
        path = "projects/%s/global/%s/%s" % (project, kind, name)
        link = "%s/global/%s/%s" % (api, kind, name)
    obj = res.get(key)
    not_found = ("ERROR: (%s) Could not fetch resource:\n - The resource "
                 "'%s' was not found\n\n" % (cmd, path))

    def fail_if_asked():
        st["creates"] = st.get("creates", 0) + 1
        n = st["creates"]
        fake.save(st)
        fail = os.environ.get("FAKE_GCP_FAIL_CREATE")
        if fail and int(fail) == n:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - Quota 'INSTANCES' exceeded.  Limit: 0.0 in "
                        "region %s.\n" % (cmd, (zone or "us-west2-a")[:-2]),
                        failed=n)

    if verb == "describe":
        if os.environ.get("FAKE_GCP_FAIL_DESCRIBE"):
            fake.finish(argv, 1, err="ERROR: (%s) You do not currently have "
                        "an active account selected.\n" % cmd)
        if obj is None:
            fake.finish(argv, 1, err=not_found)
        fake.finish(argv, 0, out=fake.render(obj, flags.get("format")))

    if verb == "delete":
        if obj is None:
            fake.finish(argv, 1, err=not_found)
        users = []
        if coll == "health-checks":
            users = [k for k, v in res.items() if k.startswith(
                "instance-groups/") and any(
                    p.get("healthCheck") == link
                    for p in v.get("autoHealingPolicies", []))]
        if coll == "instance-templates":
            users = [k for k, v in res.items() if k.startswith(
                "instance-groups/") and v.get("instanceTemplate") == link]
        if users:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The %s resource '%s' is already being used by "
                        "'%s'\n" % (cmd, coll[:-1], path, users[0]))
        if coll == "instance-groups":
            # Deleting a group deletes its instances.
            for inst in obj.get("_instances", []):
                ik = "instances/%s/%s" % (zone, inst)
                addr = res.get(ik, {}).get("_address")
                if addr:
                    a = res.get("addresses/%s/%s" % (zone[:-2], addr))
                    if a:
                        a["status"] = "RESERVED"
                res.pop(ik, None)
        del res[key]
        fake.save(st)
        fake.finish(argv, 0, err="Deleted [%s].\n" % link)

    def need(k, what, p):
        if k not in res:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The resource '%s' was not found\n" % (cmd, p),
                        missing=what)

    if verb == "create" and coll == "instance-templates":
        fail_if_asked()
        if obj is not None:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The resource '%s' already exists\n"
                        % (cmd, path), duplicate=True)
        img = flags.get("image", "")
        need("images/global/%s" % img, "image",
             "projects/%s/global/images/%s" % (project, img))
        net = flags.get("network", "default")
        need("networks/global/%s" % net, "network",
             "projects/%s/global/networks/%s" % (project, net))
        meta = []
        mff = flags.get("metadata-from-file")
        if mff:
            k, _, fpath = mff.partition("=")
            try:
                with open(fpath) as f:
                    meta.append({"key": k, "value": f.read()})
            except OSError:
                fake.finish(argv, 1, err="ERROR: (%s) Unable to read file "
                            "[%s]\n" % (cmd, fpath))
        tags = flags.get("tags")
        res[key] = {
            "name": name, "selfLink": link, "kind": "compute#instanceTemplate",
            "description": flags.get("description", ""),
            "properties": {
                "machineType": flags.get("machine-type", "n1-standard-1"),
                "canIpForward": bool(flags.get("can-ip-forward")),
                "tags": {"items": tags.split(",")} if tags else {},
                "disks": [{"boot": True, "initializeParams": {
                    "sourceImage": "projects/%s/global/images/%s"
                    % (project, img)}}],
                "metadata": {"items": meta},
                "networkInterfaces": [{
                    "network": "%s/global/networks/%s" % (api, net),
                    "accessConfigs": [{"name": "external-nat",
                                       "type": "ONE_TO_ONE_NAT"}]}]}}
        fake.save(st)
        fake.finish(argv, 0, err="Created [%s].\n" % link, created=key)

    if verb == "create" and coll == "health-checks":
        fail_if_asked()
        if obj is not None:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The resource '%s' already exists\n"
                        % (cmd, path), duplicate=True)
        res[key] = {
            "name": name, "selfLink": link, "kind": "compute#healthCheck",
            "description": flags.get("description", ""), "type": "HTTP",
            "httpHealthCheck": {
                "port": int(flags.get("port", 80)),
                "requestPath": flags.get("request-path", "/")},
            "checkIntervalSec": int(str(flags.get("check-interval",
                                                  "5s")).rstrip("s")),
            "unhealthyThreshold": int(flags.get("unhealthy-threshold", 2))}
        fake.save(st)
        fake.finish(argv, 0, err="Created [%s].\n" % link, created=key)

    # ---------------------------------------------- managed groups
    def template_link(tname):
        need("instance-templates/global/%s" % tname, "template",
             "projects/%s/global/instanceTemplates/%s" % (project, tname))
        return "%s/global/instanceTemplates/%s" % (api, tname)

    def make_instance(grp, inst, address):
        tname = grp["instanceTemplate"].rsplit("/", 1)[-1]
        tpl = res["instance-templates/global/%s" % tname]["properties"]
        nat = "198.51.100.%d" % (30 + len(res))
        if address:
            a = res["addresses/%s/%s" % (zone[:-2], address)]
            a["status"] = "IN_USE"
            nat = a["address"]
        ik = "instances/%s/%s" % (zone, inst)
        old = res.get(ik, {})
        res[ik] = {
            "name": inst, "kind": "compute#instance",
            "selfLink": "%s/zones/%s/instances/%s" % (api, zone, inst),
            "description": "", "status": "RUNNING",
            "zone": "%s/zones/%s" % (api, zone),
            "canIpForward": tpl["canIpForward"], "tags": tpl["tags"],
            "metadata": tpl["metadata"],
            "_address": address, "_template": tname,
            "_created": old.get("_created", 0) + 1,
            "networkInterfaces": [{
                "name": "nic0", "network": tpl["networkInterfaces"][0][
                    "network"],
                "networkIP": "10.240.0.%d" % (10 + sorted(
                    grp["_instances"]).index(inst)),
                "accessConfigs": [{"name": "external-nat",
                                   "type": "ONE_TO_ONE_NAT",
                                   "natIP": nat}]}]}

    if verb == "create":
        fail_if_asked()
        if obj is not None:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The resource '%s' already exists\n"
                        % (cmd, path), duplicate=True)
        tlink = template_link(flags.get("template", ""))
        grp = {"name": name, "selfLink": link,
               "kind": "compute#instanceGroupManager",
               "description": flags.get("description", ""),
               "instanceTemplate": tlink,
               "versions": [{"instanceTemplate": tlink}],
               "targetSize": int(flags.get("size", 0)),
               "baseInstanceName": flags.get("base-instance-name", name),
               "zone": "%s/zones/%s" % (api, zone),
               "_instances": [], "_configs": {}}
        if flags.get("health-check"):
            hc = flags["health-check"]
            need("health-checks/global/%s" % hc, "health check",
                 "projects/%s/global/healthChecks/%s" % (project, hc))
            grp["autoHealingPolicies"] = [{
                "healthCheck": "%s/global/healthChecks/%s" % (api, hc),
                "initialDelaySec": int(flags.get("initial-delay", 300))}]
        res[key] = grp
        fake.save(st)
        fake.finish(argv, 0, err="Created [%s].\n" % link, created=key)

    if obj is None:
        fake.finish(argv, 1, err=not_found)

    if verb == "create-instance":
        fail_if_asked()
        inst = flags.get("instance", "")
        if "instances/%s/%s" % (zone, inst) in res:
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - The resource 'projects/%s/zones/%s/instances/"
                        "%s' already exists\n" % (cmd, project, zone, inst),
                        duplicate=True)
        sip = dict(kv.split("=", 1) for kv in flags.get(
            "stateful-external-ip", "").split(",") if "=" in kv)
        address = None
        if sip.get("address"):
            m = re.match(r"^projects/[^/]+/regions/([^/]+)/addresses/(.+)$",
                         sip["address"])
            if not m:
                fake.finish(argv, 1, err="ERROR: (%s) fake: address as "
                            "projects/P/regions/R/addresses/NAME\n" % cmd)
            address = m.group(2)
            need("addresses/%s/%s" % (m.group(1), address), "address",
                 sip["address"])
        obj["_instances"].append(inst)
        obj["_configs"][inst] = {"externalIPs": {
            sip.get("interface-name", "nic0"): {
                "address": sip.get("address"),
                "autoDelete": sip.get("auto-delete", "never").upper()}}}
        obj["targetSize"] += 1
        make_instance(obj, inst, address)
        fake.save(st)
        fake.finish(argv, 0, out="---\ninstance: %s\nstatus: SUCCESS\n"
                    % inst, created="instances/%s/%s" % (zone, inst))

    if verb == "rolling-action start-update":
        fail_if_asked()
        m = re.match(r"^template=(.+)$", flags.get("version", ""))
        if not m:
            fake.finish(argv, 1, err="ERROR: (%s) --version=template=T\n"
                        % cmd)
        tlink = template_link(m.group(1))
        if obj["_configs"] and flags.get("max-surge", "0") != "0":
            fake.finish(argv, 1, err="ERROR: (%s) Could not fetch resource:"
                        "\n - Invalid value for field 'resource.updatePolicy"
                        ".maxSurge': stateful instances cannot surge\n" % cmd)
        obj["instanceTemplate"] = tlink
        obj["versions"] = [{"instanceTemplate": tlink}]
        obj["updatePolicy"] = {
            "maxUnavailable": {"fixed": int(flags.get("max-unavailable",
                                                      1))},
            "maxSurge": {"fixed": int(flags.get("max-surge", 0))},
            "replacementMethod": str(flags.get("replacement-method",
                                               "substitute")).upper()}
        # The group recreates its instances one after the other, each with
        # its name and stateful address.
        for inst in obj["_instances"]:
            make_instance(obj, inst, res["instances/%s/%s" % (
                zone, inst)].get("_address"))
            st.setdefault("recreated", []).append(inst)
        fake.save(st)
        fake.finish(argv, 0, out=fake.render(obj, "json"))

    if verb == "wait-until":
        fake.finish(argv, 0, out="Group is stable\n")

    if verb == "list-instances":
        out = [{"instance": res["instances/%s/%s" % (zone, i)]["selfLink"],
                "status": "RUNNING", "currentAction": "NONE",
                "version": {"instanceTemplate": "%s/global/instanceTemplates"
                            "/%s" % (api, res["instances/%s/%s" % (
                                zone, i)]["_template"])}}
               for i in obj["_instances"]]
        fake.finish(argv, 0, out=json.dumps(out, indent=2) + "\n")

    fake.finish(argv, 2, err="ERROR: (%s) fake: unsupported\n" % cmd)
