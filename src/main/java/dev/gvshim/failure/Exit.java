package dev.gvshim.failure;

/** gvshim's exit statuses that are not a command's own (those of docker run, runc and timeout(1)). */
public final class Exit {
    /** gvshim's own failures, internal errors included (runc, podman and docker run use it the same way). */
    public static final int GVSHIM = 125;
    /** --timeout expired (timeout(1)'s status). */
    public static final int TIMEOUT = 124;
    /** The command exists but cannot be executed (the shell's status). */
    public static final int NOT_EXECUTABLE = 126;
    /** The command is not found (the shell's status). */
    public static final int NOT_FOUND = 127;
    /** A runc verb's failure (runc's logrus.Fatal). */
    public static final int RUNTIME = 1;
    /**
     * `exec` failed before its process ran or without its status (runc's exec.go fatalWithCode(...,
     * 255)): callers tell it from the process's own exit status, which is 0-254 or 128+signal.
     */
    public static final int EXEC_FAILED = 255;
    /** An unknown verb or help topic of the runtime (runc's urfave/cli "No help topic"). */
    public static final int NO_HELP_TOPIC = 3;
    /** A command-line usage error (picocli's and most tools'). */
    public static final int USAGE = 2;

    private Exit() {
    }
}
