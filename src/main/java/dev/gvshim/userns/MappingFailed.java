package dev.gvshim.userns;

import dev.gvshim.linux.Linux;
import java.util.List;

/**
 * newuidmap or newgidmap exited non-zero. Carries its exact arguments, status and message,
 * because the same message ("write to uid_map failed: Operation not permitted") has at least
 * five different causes and the explanation needs all the evidence.
 */
public final class MappingFailed extends Exception {
    private static final long serialVersionUID = 1L;
    private final String helper;
    private final transient List<String> argv;
    private final transient Linux.WaitStatus status;
    private final String output;

    public MappingFailed(String helper, List<String> argv, Linux.WaitStatus status, String output) {
        super(helper + " " + status + (output.isEmpty() ? "" : ": " + output));
        this.helper = helper;
        this.argv = List.copyOf(argv);
        this.status = status;
        this.output = output;
    }

    public String helper() {
        return helper;
    }

    public List<String> argv() {
        return argv;
    }

    public Linux.WaitStatus status() {
        return status;
    }

    /** The helper's stderr, verbatim (stripped of surrounding white space). */
    public String output() {
        return output;
    }
}
