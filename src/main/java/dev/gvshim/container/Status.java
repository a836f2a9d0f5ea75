package dev.gvshim.container;

import java.util.Locale;

/**
 * A container's status as runc names it (runtime-spec's state, plus runc's "paused"), and what
 * each allows, checked before runsc is asked: runsc's own answers to a verb in the wrong state
 * range from a Go panic (`pause` of a created container) to destroying it (`start` of a running
 * one fails, and a failed start is cleaned up). The texts of refusals are runc's, which clients
 * match.
 */
public enum Status {
    CREATING, CREATED, RUNNING, PAUSED, STOPPED;

    /** runsc's (and runc's) name of a status; null for one it does not have. */
    public static Status of(String name) {
        for (Status s : values()) {
            if (s.label().equals(name)) {
                return s;
            }
        }
        return null;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** runc starts a created container only. */
    public boolean canStart() {
        return this == CREATED;
    }

    /** A signal reaches a created, running or paused container (a paused one's is held: see Kill). */
    public boolean canKill() {
        return this == CREATED || this == RUNNING || this == PAUSED;
    }

    /** runc also freezes a created container; runsc 2022-12 panics on it ("invalid state transition"), so only a running one. */
    public boolean canPause() {
        return this == RUNNING;
    }

    public boolean canResume() {
        return this == PAUSED;
    }

    /**
     * runc execs into a created or running container; gVisor only into a running one (its
     * sandbox runs no process of a container before start: runsc says "not started"). A paused
     * one needs --ignore-paused, and its exec waits for resume (Exec.awaitResume).
     */
    public boolean canExec() {
        return this == RUNNING;
    }

    /** runc deletes a created or stopped container without --force. */
    public boolean canDelete() {
        return this == CREATED || this == STOPPED;
    }

    /** runc's refusal of `start` in this status (start.go), or null when it may start. */
    public String startRefusal() {
        return switch (this) {
            case CREATED -> null;
            case STOPPED -> "cannot start a container that has stopped";
            case RUNNING -> "cannot start an already running container";
            default -> "cannot start a container in the " + label() + " state";
        };
    }

    /** runc's refusal of `exec` in this status (exec.go), or null when it may. */
    public String execRefusal() {
        return switch (this) {
            case STOPPED -> "cannot exec in a stopped container";
            case CREATED -> "cannot exec in a created container: gVisor runs a container's processes only once it is"
                    + " started (runc would run it in the created container's namespaces)";
            case PAUSED -> "cannot exec in a paused container (use --ignore-paused to override)";
            default -> null;
        };
    }
}
