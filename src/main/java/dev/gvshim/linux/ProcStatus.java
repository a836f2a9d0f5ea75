package dev.gvshim.linux;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields of {@code /proc/self/status} (proc(5)) that decide how a user namespace can be
 * set up: ids, capability sets, NoNewPrivs and seccomp. A pure parser, so tests feed it text.
 */
public record ProcStatus(int uid, int euid, int gid, int egid, long capEff, long capPrm, long capBnd,
        boolean noNewPrivs, int seccompMode, int seccompFilters) {

    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_SYS_CHROOT = 18;
    public static final int CAP_SYS_PTRACE = 19;
    public static final int CAP_SYS_ADMIN = 21;
    public static final int CAP_SETFCAP = 31;

    /** Capability names by bit number (include/uapi/linux/capability.h). */
    private static final String[] CAP_NAMES = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
        "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"};

    /** Without CapPrm and Seccomp_filters (tests that do not care). */
    public ProcStatus(int uid, int euid, int gid, int egid, long capEff, long capBnd, boolean noNewPrivs, int seccompMode) {
        this(uid, euid, gid, egid, capEff, capEff, capBnd, noNewPrivs, seccompMode, seccompMode == 2 ? 1 : 0);
    }

    public static ProcStatus parse(String text) {
        int uid = -1, euid = -1, gid = -1, egid = -1, seccomp = 0, filters = 0;
        long capEff = 0, capPrm = 0, capBnd = 0;
        boolean nnp = false;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String[] v = line.substring(colon + 1).trim().split("\\s+");
            switch (key) {
                case "Uid" -> {
                    uid = Integer.parseInt(v[0]);
                    euid = Integer.parseInt(v[1]);
                }
                case "Gid" -> {
                    gid = Integer.parseInt(v[0]);
                    egid = Integer.parseInt(v[1]);
                }
                case "CapEff" -> capEff = Long.parseUnsignedLong(v[0], 16);
                case "CapPrm" -> capPrm = Long.parseUnsignedLong(v[0], 16);
                case "CapBnd" -> capBnd = Long.parseUnsignedLong(v[0], 16);
                case "Seccomp_filters" -> filters = Integer.parseInt(v[0]);
                case "NoNewPrivs" -> nnp = "1".equals(v[0]);
                case "Seccomp" -> seccomp = Integer.parseInt(v[0]);
                default -> {
                    // not needed
                }
            }
        }
        if (uid < 0 || gid < 0) {
            throw new IllegalArgumentException("no Uid/Gid lines in /proc/self/status");
        }
        return new ProcStatus(uid, euid, gid, egid, capEff, capPrm, capBnd, nnp, seccomp, filters);
    }

    public boolean hasEffective(int cap) {
        return (capEff & (1L << cap)) != 0;
    }

    public boolean inBounding(int cap) {
        return (capBnd & (1L << cap)) != 0;
    }

    /** {@code CAP_SETUID,CAP_SETGID} for a capability mask. */
    public static List<String> capNames(long mask) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((mask & (1L << bit)) != 0) {
                names.add(bit < CAP_NAMES.length ? CAP_NAMES[bit] : "CAP_" + bit);
            }
        }
        return names;
    }
}
