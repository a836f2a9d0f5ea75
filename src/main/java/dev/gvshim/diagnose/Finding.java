package dev.gvshim.diagnose;

import dev.gvshim.failure.Failure;

/**
 * One check of `gvshim doctor`: a stable id (the cause it rules in or out), its status, what
 * it found, the evidence read (file and value, or call and errno), and the fix when it is
 * not ok.
 *
 * @param id       stable identifier: USERNS_SECCOMP, SUBUID_MISSING, ... (the same ids as run's failures)
 * @param status   ok, warn (the sandbox can start, but something is lost or worth knowing), fail
 * @param group    where it is listed: kernel, process, id mapping, sandbox, environment
 * @param summary  one sentence for a person
 * @param evidence what was read, verbatim where possible; may be null
 * @param fix      what to do; null when ok
 */
public record Finding(String id, Status status, String group, String summary, String evidence, String fix) {
    /** NOT_TESTED: a check that needs the live probe, which did not reach it; never counted as ok. */
    public enum Status {
        OK, WARN, FAIL, NOT_TESTED;

        public String label() {
            return this == NOT_TESTED ? "not tested" : name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static Finding ok(String id, String group, String summary, String evidence) {
        return new Finding(id, Status.OK, group, summary, evidence, null);
    }

    public static Finding warn(String id, String group, String summary, String evidence, String fix) {
        return new Finding(id, Status.WARN, group, summary, evidence, fix);
    }

    public static Finding fail(String id, String group, String summary, String evidence, String fix) {
        return new Finding(id, Status.FAIL, group, summary, evidence, fix);
    }

    /** A failure explained by {@link Explain}, as a finding of the given status. */
    public static Finding of(Failure f, Status status, String group) {
        String summary = f.why() == null ? f.what() : f.what() + ": " + f.why();
        return new Finding(f.id(), status, group, summary, f.evidence(), f.fix());
    }
}
