package dev.gvshim.oci;

import java.util.HashMap;
import java.util.Map;

/**
 * The JSON type of every field of config.json, as the runtime-spec's Go structs declare them
 * (opencontainers/runtime-spec specs-go/config.go, 1.1), which is what runsc's encoding/json
 * accepts. Data only: {@link SpecTypes} checks a spec against it.
 */
final class SpecSchema {
    /**
     * The schema: a path (objects' fields by name, {@code []} for an array's elements,
     * {@code *} for a map's values) and its type: string, bool, int, uint, uint16, uint32,
     * uint64, object, array (of the elements given by the path + "[]").
     */
    private static final String SCHEMA = """
            ociVersion string
            hostname string
            domainname string
            process object
            process.terminal bool
            process.consoleSize object
            process.consoleSize.height uint
            process.consoleSize.width uint
            process.user object
            process.user.uid uint32
            process.user.gid uint32
            process.user.umask uint32
            process.user.additionalGids array
            process.user.additionalGids[] uint32
            process.user.username string
            process.args array
            process.args[] string
            process.commandLine string
            process.env array
            process.env[] string
            process.cwd string
            process.capabilities object
            process.capabilities.bounding array
            process.capabilities.bounding[] string
            process.capabilities.effective array
            process.capabilities.effective[] string
            process.capabilities.inheritable array
            process.capabilities.inheritable[] string
            process.capabilities.permitted array
            process.capabilities.permitted[] string
            process.capabilities.ambient array
            process.capabilities.ambient[] string
            process.rlimits array
            process.rlimits[] object
            process.rlimits[].type string
            process.rlimits[].hard uint64
            process.rlimits[].soft uint64
            process.noNewPrivileges bool
            process.apparmorProfile string
            process.oomScoreAdj int
            process.selinuxLabel string
            process.scheduler object
            process.scheduler.policy string
            process.scheduler.nice int32
            process.scheduler.priority int32
            process.scheduler.flags array
            process.scheduler.flags[] string
            process.scheduler.runtime uint64
            process.scheduler.deadline uint64
            process.scheduler.period uint64
            process.ioPriority object
            process.ioPriority.class string
            process.ioPriority.priority int
            root object
            root.path string
            root.readonly bool
            mounts array
            mounts[] object
            mounts[].destination string
            mounts[].type string
            mounts[].source string
            mounts[].options array
            mounts[].options[] string
            mounts[].uidMappings array
            mounts[].uidMappings[] idmap
            mounts[].gidMappings array
            mounts[].gidMappings[] idmap
            hooks object
            hooks.prestart array
            hooks.prestart[] hook
            hooks.createRuntime array
            hooks.createRuntime[] hook
            hooks.createContainer array
            hooks.createContainer[] hook
            hooks.startContainer array
            hooks.startContainer[] hook
            hooks.poststart array
            hooks.poststart[] hook
            hooks.poststop array
            hooks.poststop[] hook
            annotations object
            annotations.* string
            linux object
            linux.uidMappings array
            linux.uidMappings[] idmap
            linux.gidMappings array
            linux.gidMappings[] idmap
            linux.sysctl object
            linux.sysctl.* string
            linux.cgroupsPath string
            linux.namespaces array
            linux.namespaces[] object
            linux.namespaces[].type string
            linux.namespaces[].path string
            linux.devices array
            linux.devices[] object
            linux.devices[].path string
            linux.devices[].type string
            linux.devices[].major int64
            linux.devices[].minor int64
            linux.devices[].fileMode uint32
            linux.devices[].uid uint32
            linux.devices[].gid uint32
            linux.seccomp object
            linux.seccomp.defaultAction string
            linux.seccomp.defaultErrnoRet uint
            linux.seccomp.architectures array
            linux.seccomp.architectures[] string
            linux.seccomp.flags array
            linux.seccomp.flags[] string
            linux.seccomp.listenerPath string
            linux.seccomp.listenerMetadata string
            linux.seccomp.syscalls array
            linux.seccomp.syscalls[] object
            linux.seccomp.syscalls[].names array
            linux.seccomp.syscalls[].names[] string
            linux.seccomp.syscalls[].action string
            linux.seccomp.syscalls[].errnoRet uint
            linux.seccomp.syscalls[].args array
            linux.seccomp.syscalls[].args[] object
            linux.seccomp.syscalls[].args[].index uint
            linux.seccomp.syscalls[].args[].value uint64
            linux.seccomp.syscalls[].args[].valueTwo uint64
            linux.seccomp.syscalls[].args[].op string
            linux.rootfsPropagation string
            linux.maskedPaths array
            linux.maskedPaths[] string
            linux.readonlyPaths array
            linux.readonlyPaths[] string
            linux.mountLabel string
            linux.intelRdt object
            linux.intelRdt.closID string
            linux.intelRdt.l3CacheSchema string
            linux.intelRdt.memBwSchema string
            linux.intelRdt.enableCMT bool
            linux.intelRdt.enableMBM bool
            linux.personality object
            linux.personality.domain string
            linux.personality.flags array
            linux.personality.flags[] string
            linux.timeOffsets object
            linux.timeOffsets.* object
            linux.timeOffsets.*.secs int64
            linux.timeOffsets.*.nanosecs uint32
            linux.resources object
            linux.resources.devices array
            linux.resources.devices[] object
            linux.resources.devices[].allow bool
            linux.resources.devices[].type string
            linux.resources.devices[].major int64
            linux.resources.devices[].minor int64
            linux.resources.devices[].access string
            linux.resources.memory object
            linux.resources.memory.limit int64
            linux.resources.memory.reservation int64
            linux.resources.memory.swap int64
            linux.resources.memory.kernel int64
            linux.resources.memory.kernelTCP int64
            linux.resources.memory.swappiness uint64
            linux.resources.memory.disableOOMKiller bool
            linux.resources.memory.useHierarchy bool
            linux.resources.memory.checkBeforeUpdate bool
            linux.resources.cpu object
            linux.resources.cpu.shares uint64
            linux.resources.cpu.quota int64
            linux.resources.cpu.burst uint64
            linux.resources.cpu.period uint64
            linux.resources.cpu.realtimeRuntime int64
            linux.resources.cpu.realtimePeriod uint64
            linux.resources.cpu.cpus string
            linux.resources.cpu.mems string
            linux.resources.cpu.idle int64
            linux.resources.pids object
            linux.resources.pids.limit int64
            linux.resources.blockIO object
            linux.resources.blockIO.weight uint16
            linux.resources.blockIO.leafWeight uint16
            linux.resources.blockIO.weightDevice array
            linux.resources.blockIO.weightDevice[] object
            linux.resources.blockIO.weightDevice[].major int64
            linux.resources.blockIO.weightDevice[].minor int64
            linux.resources.blockIO.weightDevice[].weight uint16
            linux.resources.blockIO.weightDevice[].leafWeight uint16
            linux.resources.blockIO.throttleReadBpsDevice array
            linux.resources.blockIO.throttleReadBpsDevice[] throttle
            linux.resources.blockIO.throttleWriteBpsDevice array
            linux.resources.blockIO.throttleWriteBpsDevice[] throttle
            linux.resources.blockIO.throttleReadIOPSDevice array
            linux.resources.blockIO.throttleReadIOPSDevice[] throttle
            linux.resources.blockIO.throttleWriteIOPSDevice array
            linux.resources.blockIO.throttleWriteIOPSDevice[] throttle
            linux.resources.hugepageLimits array
            linux.resources.hugepageLimits[] object
            linux.resources.hugepageLimits[].pageSize string
            linux.resources.hugepageLimits[].limit uint64
            linux.resources.network object
            linux.resources.network.classID uint32
            linux.resources.network.priorities array
            linux.resources.network.priorities[] object
            linux.resources.network.priorities[].name string
            linux.resources.network.priorities[].priority uint32
            linux.resources.rdma object
            linux.resources.rdma.* object
            linux.resources.rdma.*.hcaHandles uint32
            linux.resources.rdma.*.hcaObjects uint32
            linux.resources.unified object
            linux.resources.unified.* string
            """;

    /** Structs used in several places, expanded where the schema names them. */
    private static final Map<String, String> STRUCTS = Map.of(
            "idmap", "object\n.containerID uint32\n.hostID uint32\n.size uint32",
            "hook", "object\n.path string\n.args array\n.args[] string\n.env array\n.env[] string\n.timeout int",
            "throttle", "object\n.major int64\n.minor int64\n.rate uint64");

    /** Path (with [] and *) to type. */
    private static final Map<String, String> TYPES = new HashMap<>();

    static {
        for (String line : SCHEMA.strip().split("\n")) {
            String[] w = line.strip().split(" ");
            String struct = STRUCTS.get(w[1]);
            if (struct == null) {
                TYPES.put(w[0], w[1]);
                continue;
            }
            String[] parts = struct.split("\n");
            TYPES.put(w[0], parts[0]);
            for (int i = 1; i < parts.length; i++) {
                String[] f = parts[i].split(" ");
                TYPES.put(w[0] + f[0], f[1]);
            }
        }
    }

    private SpecSchema() {
    }

    /** The type of the field at {@code path} ("process.args[]", "annotations.*"), or null when the structs have none. */
    static String type(String path) {
        return TYPES.get(path);
    }

    static boolean has(String path) {
        return TYPES.containsKey(path);
    }
}
