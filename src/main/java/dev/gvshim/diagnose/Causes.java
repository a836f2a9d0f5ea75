package dev.gvshim.diagnose;

import dev.gvshim.linux.ProcStatus;

/**
 * What every part of {@link Explain} reads its causes from: the facts Explain gathers once, on
 * the first failure ({@link Explain#facts}), and through them the environment and this
 * process's status.
 */
abstract class Causes {
    final Explain x;

    Causes(Explain x) {
        this.x = x;
    }

    final Facts facts() {
        return x.facts();
    }

    final Environment env() {
        return facts().env();
    }

    final ProcStatus status() {
        return facts().status();
    }
}
