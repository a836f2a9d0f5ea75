package dev.gvshim.diagnose;

/**
 * One group of doctor's findings: what every group shares (the facts, the cause engine and the
 * findings so far).
 */
abstract class Checks {
    final Facts facts;
    final Explain explain;
    final Findings findings;

    Checks(Facts facts, Explain explain, Findings findings) {
        this.facts = facts;
        this.explain = explain;
        this.findings = findings;
    }

    void put(Finding f) {
        findings.put(f);
    }

    /** A live result replaces the static guess with the same id, keeping its place in the order. */
    void override(Finding f) {
        findings.override(f);
    }
}
