/**
 * Sandboxed processes for Java programs: {@link dev.gvshim.api.SandboxBuilder} is
 * {@link java.lang.ProcessBuilder} for a command that runs in a rootless gVisor sandbox, as
 * {@code gvshim run} runs it, and {@code start()} returns a {@link java.lang.Process}. Needs the
 * gvshim installation (its native helpers, found as the README's "Java API" section says),
 * runsc, and {@code --enable-native-access} for the module or class path gvshim's jar is on.
 */
package dev.gvshim.api;
