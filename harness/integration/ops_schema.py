# SPDX-License-Identifier: MIT
"""The config.json schema ops declares, written down as data, and a checker
that reads a config.json the way ops does.

Source: nanovms/ops, types/config.go (the Config struct and the structs it
nests: RunConfig, ProviderConfig, CloudVolume, Tag, TagAttribute, Nic).
ops reads config.json in cmd/flags_config.go with Go's encoding/json
decoder and DisallowUnknownFields (since 2021), so a key the struct does
not declare makes ops refuse the whole file.

Two layouts, because ops PR 1464 (commit 726413b, May 2023) moved Klibs
from RunConfig to the top level:

  "current"  types/config.go at ops HEAD (bb2d9ce): Klibs in Config only
  "seed"     `git show 726413b^:types/config.go` (4bbd144): Klibs in
             RunConfig only, the layout of the seed's config.json

Each struct maps its JSON key to a type.  A key is the Go field name unless
the field's json tag renames it (`json:"home"`); fields tagged `json:"-"`
have no key at all.  Types: "string", "bool", "int" (int and int64),
"[]string", "map[string]string", "map[string]any"
(map[string]interface{}), "*bool", a struct's name, or "[]" and a
struct's name."""

# --------------------------------------------------------------- current

_CONFIG_CURRENT = {
    "Args": "[]string", "DisableArgsCopy": "bool", "BaseVolumeSz": "string",
    "Boot": "string", "UefiBoot": "string", "Uefi": "bool",
    "BuildDir": "string", "CloudConfig": "ProviderConfig",
    "TargetConfig": "map[string]string", "Debugflags": "[]string",
    "Dirs": "[]string", "Env": "map[string]string", "Files": "[]string",
    "Force": "bool", "home": "string", "Kernel": "string",
    "KlibDir": "string", "Klibs": "[]string",
    "MapDirs": "map[string]string", "Mounts": "map[string]string",
    "NameServers": "[]string", "NanosVersion": "string",
    "NightlyBuild": "bool", "NoTrace": "[]string",
    "ManifestPassthrough": "map[string]any", "Program": "string",
    "ProgramPath": "string", "RebootOnExit": "bool",
    "RunConfig": "RunConfig", "LocalFilesParentDirectory": "string",
    "TargetRoot": "string", "TFSv4": "bool", "Version": "string",
    "Language": "string", "Description": "string", "VolumesDir": "string",
    "PackageBaseURL": "string", "PackageManifestURL": "string",
}

_RUNCONFIG_CURRENT = {
    "Accel": "bool", "AtExit": "string", "Bridged": "bool",
    "BridgeIPAddress": "string", "BridgeName": "string",
    "CanIPForward": "bool", "CPUs": "int", "GPUs": "int",
    "GPUType": "string", "Debug": "bool", "Gateway": "string",
    "GdbPort": "int", "ImageName": "string", "InstanceGroup": "string",
    "InstanceName": "string", "IPAddress": "string",
    "IPv6Address": "string", "Kernel": "string", "Memory": "string",
    "Mgmt": "string", "Vga": "bool",
    # VirtfsShares is tagged json:"-": no key.
    "Mounts": "[]string", "AttachVolumeOnInstanceCreate": "bool",
    "NetMask": "string", "Nics": "[]Nic", "Background": "bool",
    "BackgroundDetach": "bool", "Ports": "[]string", "QMP": "bool",
    "ShowDebug": "bool", "ShowErrors": "bool", "ShowWarnings": "bool",
    "JSON": "bool", "TapName": "string", "UDPPorts": "[]string",
    "Verbose": "bool", "VolumeSizeInGb": "int", "ThreadsPerCore": "int",
}

_PROVIDER_CURRENT = {
    "BucketName": "string", "BucketNamespace": "string",
    "ConfidentialVM": "bool", "DedicatedHostID": "string",
    "DomainName": "string", "StaticIP": "string", "EnableIPv6": "bool",
    "Flavor": "string", "ImageType": "string", "ImageName": "string",
    "InstanceProfile": "string", "KMS": "string", "Platform": "string",
    "ProjectID": "string", "RootVolume": "CloudVolume",
    "SecurityGroup": "string", "SkipImportVerify": "bool", "Spot": "bool",
    "Subnet": "string", "Tags": "[]Tag", "UserData": "string",
    "VPC": "string", "Zone": "string",
}

_NIC = {"IPAddress": "string", "IPv6Address": "string",
        "NetMask": "string", "Gateway": "string", "BridgeName": "string"}

CURRENT = {
    "Config": _CONFIG_CURRENT,
    "RunConfig": _RUNCONFIG_CURRENT,
    "ProviderConfig": _PROVIDER_CURRENT,
    "CloudVolume": {"name": "string", "iops": "int", "size": "int",
                    "throughput": "int", "typeof": "string"},
    "Tag": {"key": "string", "value": "string", "attribute": "TagAttribute"},
    "TagAttribute": {"image_label": "*bool", "instance_label": "*bool",
                     "instance_network": "*bool",
                     "instance_metadata": "*bool"},
    "Nic": _NIC,
}

# ------------------------------------------------------------------ seed

_CONFIG_SEED = {
    "Args": "[]string", "DisableArgsCopy": "bool", "BaseVolumeSz": "string",
    "Boot": "string", "UefiBoot": "string", "Uefi": "bool",
    "BuildDir": "string", "CloudConfig": "ProviderConfig",
    "TargetConfig": "map[string]string", "Debugflags": "[]string",
    "Dirs": "[]string", "Env": "map[string]string", "Files": "[]string",
    "Force": "bool", "Kernel": "string", "KlibDir": "string",
    "MapDirs": "map[string]string", "Mounts": "map[string]string",
    "NameServers": "[]string", "NanosVersion": "string",
    "NightlyBuild": "bool", "NoTrace": "[]string",
    "ManifestPassthrough": "map[string]any", "Program": "string",
    "ProgramPath": "string", "RebootOnExit": "bool",
    "RunConfig": "RunConfig", "LocalFilesParentDirectory": "string",
    "TargetRoot": "string", "Version": "string", "Language": "string",
    "Runtime": "string", "Description": "string", "VolumesDir": "string",
    "PackageBaseURL": "string", "PackageManifestURL": "string",
}

_RUNCONFIG_SEED = {
    "Accel": "bool", "Bridged": "bool", "BridgeName": "string",
    "CanIPForward": "bool", "CPUs": "int", "GPUs": "int",
    "GPUType": "string", "Debug": "bool", "Gateway": "string",
    "GdbPort": "int", "ImageName": "string", "InstanceGroup": "string",
    "InstanceName": "string", "IPAddress": "string",
    "IPv6Address": "string", "Klibs": "[]string", "Memory": "string",
    "Vga": "bool", "VirtfsShares": "[]string", "Mounts": "[]string",
    "NetMask": "string", "Nics": "[]Nic", "Background": "bool",
    "Ports": "[]string", "ShowDebug": "bool", "ShowErrors": "bool",
    "ShowWarnings": "bool", "JSON": "bool", "TapName": "string",
    "UDPPorts": "[]string", "Verbose": "bool", "VolumeSizeInGb": "int",
}

_PROVIDER_SEED = {
    "BucketName": "string", "BucketNamespace": "string",
    "DedicatedHostID": "string", "DomainName": "string",
    "StaticIP": "string", "EnableIPv6": "bool", "Flavor": "string",
    "ImageType": "string", "ImageName": "string",
    "InstanceProfile": "string", "Platform": "string",
    "ProjectID": "string", "SecurityGroup": "string", "Spot": "bool",
    "Subnet": "string", "Tags": "[]Tag", "VPC": "string", "Zone": "string",
}

SEED = {
    "Config": _CONFIG_SEED,
    "RunConfig": _RUNCONFIG_SEED,
    "ProviderConfig": _PROVIDER_SEED,
    "Tag": {"key": "string", "value": "string"},
    "Nic": _NIC,
}

LAYOUTS = {"current": CURRENT, "seed": SEED}


# --------------------------------------------------------------- checker

def _field(struct, key):
    """The declared key a JSON key decodes into: an exact match first,
    else one equal but for case, as encoding/json matches."""
    if key in struct:
        return key
    for k in struct:
        if k.lower() == key.lower():
            return k
    return None


def _check(schema, typ, value, where, errors):
    if value is None:
        return      # null leaves a Go value as it was
    if typ == "string":
        ok = isinstance(value, str)
    elif typ in ("bool", "*bool"):
        ok = isinstance(value, bool)
    elif typ == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    elif typ == "[]string":
        ok = isinstance(value, list)
        if ok:
            for i, v in enumerate(value):
                _check(schema, "string", v, "%s[%d]" % (where, i), errors)
    elif typ == "map[string]string":
        ok = isinstance(value, dict)
        if ok:
            for k, v in value.items():
                _check(schema, "string", v, "%s.%s" % (where, k), errors)
    elif typ == "map[string]any":
        ok = isinstance(value, dict)
    elif typ.startswith("[]"):
        ok = isinstance(value, list)
        if ok:
            for i, v in enumerate(value):
                _check(schema, typ[2:], v, "%s[%d]" % (where, i), errors)
    elif typ in schema:
        ok = isinstance(value, dict)
        if ok:
            for key, v in value.items():
                name = _field(schema[typ], key)
                if name is None:
                    errors.append('json: unknown field "%s" (in %s at %s)'
                                  % (key, typ, where or "top level"))
                    continue
                _check(schema, schema[typ][name], v,
                       ("%s.%s" % (where, key)).lstrip("."), errors)
    else:
        raise ValueError("no type %r in the schema" % typ)
    if not ok:
        errors.append("json: cannot unmarshal %s into %s of type %s"
                      % (type(value).__name__, where or "Config", typ))


def decode_errors(doc, layout):
    """What ops's decoder would say of the parsed config.json doc: [] when
    it accepts the file."""
    schema = LAYOUTS[layout]
    errors = []
    _check(schema, "Config", doc, "", errors)
    return errors
