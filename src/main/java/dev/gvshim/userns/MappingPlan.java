package dev.gvshim.userns;

/**
 * How the user namespace of one run is set up: the chosen mode, how the maps are written,
 * and, when full mode was not chosen, why.
 *
 * @param viaHelpers   maps are written by newuidmap/newgidmap; otherwise directly to /proc/PID/*
 * @param denySetgroups write "deny" to /proc/PID/setgroups first (required for an unprivileged gid_map)
 * @param notFull      why full mode is not used (null when it is)
 * @param fullFix      what would make full mode possible (null when it is used, or nothing would)
 */
public record MappingPlan(Mode mode, IdMap uidMap, IdMap gidMap, boolean viaHelpers, boolean denySetgroups,
        String notFull, String fullFix) {

    /** runsc needs --rootless when only one id is mapped (it cannot run its sandbox as nobody). */
    public boolean runscRootless() {
        return mode == Mode.SINGLE;
    }

    public String describe() {
        String how = viaHelpers ? "newuidmap/newgidmap" : "direct /proc writes";
        return "userns mode " + mode.label() + " (uid map " + uidMap + ", gid map " + gidMap + ", via " + how + ")";
    }
}
