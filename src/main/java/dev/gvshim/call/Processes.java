package dev.gvshim.call;

import java.io.IOException;

/**
 * The one way the core starts a program and waits for it. One-shot gvshim starts it itself
 * ({@link OneShotProcesses}); a server asks its client to (so that the program is a
 * descendant of the caller's process, as runc's callers require of runsc's processes).
 */
@FunctionalInterface
public interface Processes {
    /** Starts {@code launch}, waits for it to exit; IOException when it cannot be started. */
    Launch.Ran run(Launch launch) throws IOException;
}
