package dev.gvshim.diagnose;

/**
 * Why the sandbox could not start, for a person: one line with what failed, the evidence
 * (call and errno, or a helper's message), why, and the fix.
 *
 * @param id       stable identifier (USERNS_SECCOMP, SUBUID_MISSING, ...), shown with --debug
 * @param what     the failed step, phrased as "cannot ..."
 * @param evidence the call and errno, or a helper's verbatim message (may be null)
 * @param why      the cause (may be null when unknown)
 * @param fix      what to do (may be null)
 * @param exitCode 125 for gvshim's own failures; 126/127 for a command that cannot be executed
 */
public record Failure(String id, String what, String evidence, String why, String fix, int exitCode) {
    public static final int EXIT_GVSHIM = 125;
    public static final int EXIT_NOT_EXECUTABLE = 126;
    public static final int EXIT_NOT_FOUND = 127;

    public Failure {
        if (what == null || what.isBlank()) {
            throw new IllegalArgumentException("a failure needs a step");
        }
    }

    public static Failure of(String id, String what, String evidence, String why, String fix) {
        return new Failure(id, what, evidence, why, fix, EXIT_GVSHIM);
    }

    /** {@code gvshim: cannot X [call: ERRNO (text)]: because Y. Fix: Z [ID]} */
    public String oneLine() {
        StringBuilder b = new StringBuilder("gvshim: ").append(what);
        if (evidence != null && !evidence.isBlank()) {
            b.append(" [").append(evidence.strip().replace('\n', ' ')).append(']');
        }
        if (why != null && !why.isBlank()) {
            b.append(": ").append(why.strip());
        }
        if (fix != null && !fix.isBlank()) {
            b.append(". Fix: ").append(fix.strip());
        }
        if (id != null) {
            b.append(" [").append(id).append(']');
        }
        return b.toString();
    }
}
