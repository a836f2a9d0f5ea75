package dev.gvshim.linux;

/**
 * The step of sandbox start-up a system call belonged to. Every {@link SyscallException}
 * carries one, so that diagnostics can reason about "clone failed with EPERM while creating
 * the user namespace" rather than about a bare errno.
 */
public enum Step {
    STATE_DIR("prepare the state directory"),
    STDIO("prepare stdio pipes"),
    CREATE_USERNS("create the user namespace"),
    WRITE_SETGROUPS("write /proc/PID/setgroups"),
    WRITE_UID_MAP("write /proc/PID/uid_map"),
    WRITE_GID_MAP("write /proc/PID/gid_map"),
    RUN_NEWUIDMAP("map user ids with newuidmap"),
    RUN_NEWGIDMAP("map group ids with newgidmap"),
    RELEASE("release the namespace child"),
    EXEC_RUNSC("execute runsc"),
    EXEC_WAITER("hand over to gvshim-waiter"),
    PROBE("probe");

    private final String label;

    Step(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
