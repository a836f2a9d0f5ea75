package dev.gvshim.failure;

/**
 * Why something gvshim was asked to do failed, for a person: one line with what failed, the
 * evidence (call and errno, or a helper's message), why, the fix and the id. Carried by
 * {@link GvshimException} from the layer that knows the condition to the CLI's one sink.
 *
 * @param id       stable identifier (USERNS_SECCOMP, SUBUID_MISSING, CONTAINER_NOT_FOUND, ...), one per
 *                 condition, listed in docs/errors.md (ErrorsDocTest keeps it complete)
 * @param what     the failed step, phrased as "cannot ..."
 * @param evidence the call and errno, or a helper's verbatim message (may be null)
 * @param why      the cause (may be null when unknown)
 * @param fix      what to do (may be null)
 * @param exitCode {@link Exit#GVSHIM} for gvshim's own failures; {@link Exit#NOT_EXECUTABLE}/{@link Exit#NOT_FOUND}
 *                 for a command that cannot be executed; {@link Exit#RUNTIME} (or {@link Exit#USAGE}) for a runc verb's
 */
public record Failure(String id, String what, String evidence, String why, String fix, int exitCode) {

    public Failure {
        if (what == null || what.isBlank()) {
            throw new IllegalArgumentException("a failure needs a step");
        }
    }

    public static Failure of(String id, String what, String evidence, String why, String fix) {
        return new Failure(id, what, evidence, why, fix, Exit.GVSHIM);
    }

    /**
     * A runc verb's failure, {@code line} being the whole text (its sentinel words, which containerd
     * and Docker match as substrings, kept verbatim): exit status {@link Exit#RUNTIME}, as runc's.
     */
    public static Failure runtime(String id, String line) {
        return new Failure(id, line, null, null, null, Exit.RUNTIME);
    }

    /** A runc verb called wrongly: {@link #runtime} with {@link Exit#USAGE}. */
    public static Failure usage(String id, String line) {
        return new Failure(id, line, null, null, null, Exit.USAGE);
    }

    /** This failure with another exit status (a runc verb reports a diagnosis as runc would: 1). */
    public Failure withExit(int status) {
        return new Failure(id, what, evidence, why, fix, status);
    }

    /**
     * A line {@link #oneLine()} printed, read back: the failure of a call another process served
     * (the user's gvshim server, for the Java API's pooled runs), with {@code exitCode}. Its
     * {@link #oneLine()} is {@code line} exactly; what, evidence, why and fix are told apart as
     * oneLine joins them, else the whole text is {@link #what}. Null when the line ends without an id.
     */
    public static Failure parse(String line, int exitCode) {
        String l = line.strip();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^gvshim: (.+) \\[([A-Z][A-Z0-9_]*)\\]$").matcher(l);
        if (!m.matches()) {
            return null;
        }
        String body = m.group(1);
        String id = m.group(2);
        String fix = null;
        int f = body.lastIndexOf(". Fix: ");
        if (f >= 0) {
            fix = body.substring(f + 7);
            body = body.substring(0, f);
        }
        String why = null;
        int depth = 0;
        for (int i = 0; i + 1 < body.length(); i++) {
            char c = body.charAt(i);
            depth += c == '[' ? 1 : c == ']' ? -1 : 0;
            if (depth == 0 && c == ':' && body.charAt(i + 1) == ' ') {
                why = body.substring(i + 2);
                body = body.substring(0, i);
                break;
            }
        }
        String evidence = null;
        int e = body.lastIndexOf(" [");
        if (e > 0 && body.endsWith("]")) {
            evidence = body.substring(e + 2, body.length() - 1);
            body = body.substring(0, e);
        }
        Failure whole = new Failure(id, m.group(1), null, null, null, exitCode);
        if (body.isBlank()) {
            return whole;
        }
        Failure parsed = new Failure(id, body, evidence, why, fix, exitCode);
        return parsed.oneLine().equals(l) ? parsed : whole;
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
